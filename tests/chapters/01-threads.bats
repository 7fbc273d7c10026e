#!/usr/bin/env bats
# Chapter 01, threads: each test runs one program and checks its verdict line and exit code.

load ../helpers

@test "hello_thread: the thread runs and is joined" {
    run_prog hello_thread
    assert_success
    assert_line --regexp '^hello, world, from the new thread'
    assert_line 'OK: the thread ran and was joined'
}

@test "hello_thread: --name is passed to the thread" {
    run_prog hello_thread --name=kit
    assert_success
    assert_line --regexp '^hello, kit, from the new thread'
}
