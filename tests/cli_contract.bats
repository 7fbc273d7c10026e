#!/usr/bin/env bats
# The program contract's command-line half (CONVENTIONS.md section 2), for every program in the
# kit, found by looking in the build folder: a new program is covered without editing this file.
#   --help            exits 0 and prints a usage line on stdout
#   --no-such-option  exits 2 with a reason on stderr
#   a bad number      exits 2 with a reason on stderr, for the first numeric option (--name=N)
#                     that --help lists: not a number, negative, huge, empty

bats_load_library bats-support
bats_load_library bats-assert

setup_file() {
    : "${KIT_BUILD:?run the tests through make test}"
}

all_programs() {
    cd "$KIT_ROOT" || return 1
    local src
    for src in chapters/*/*.c exercises/*/*.c solutions/*/*.c; do
        [ -f "$src" ] && echo "$KIT_BUILD/${src%.c}"
    done
}

# Runs PROG ARGS with a timeout; sets out_status, out_stdout, out_stderr.
run_split() {
    local errfile="$BATS_TEST_TMPDIR/stderr"
    out_status=0
    out_stdout=$(timeout -k 2 20 "$@" 2>"$errfile" </dev/null) || out_status=$?
    out_stderr=$(cat "$errfile")
}

@test "every program has been built" {
    local prog missing=()
    while read -r prog; do [ -x "$KIT_ROOT/$prog" ] || missing+=("$prog"); done < <(all_programs)
    [ ${#missing[@]} -eq 0 ] || fail "not built: ${missing[*]}"
    [ "$(all_programs | wc -l)" -gt 0 ] || fail "no programs found"
}

@test "--help exits 0 and prints a usage line on stdout" {
    local prog bad=()
    while read -r prog; do
        run_split "$KIT_ROOT/$prog" --help
        [ "$out_status" -eq 0 ] && grep -q '^Usage: ' <<<"$out_stdout" ||
            bad+=("$prog (exit $out_status)")
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

@test "an unknown option exits 2 with a reason on stderr" {
    local prog bad=()
    while read -r prog; do
        run_split "$KIT_ROOT/$prog" --no-such-option
        [ "$out_status" -eq 2 ] && [ -n "$out_stderr" ] || bad+=("$prog (exit $out_status)")
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

@test "a bad number for a numeric option exits 2 with a reason on stderr" {
    local prog option value bad=() checked=0
    while read -r prog; do
        run_split "$KIT_ROOT/$prog" --help
        option=$(grep -oE -- '--[a-z][a-z-]*=N\b' <<<"$out_stdout" | head -1 | cut -d= -f1)
        [ -n "$option" ] || continue
        checked=$((checked + 1))
        for value in abc -5 1e99 99999999999999999999 ''; do
            run_split "$KIT_ROOT/$prog" "$option=$value"
            [ "$out_status" -eq 2 ] && [ -n "$out_stderr" ] ||
                bad+=("$prog $option='$value' (exit $out_status)")
        done
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
    [ "$checked" -gt 0 ] || fail "no program lists a numeric option (--name=N) in its --help"
}

@test "an unexpected argument exits 2 with a reason on stderr" {
    local prog bad=()
    while read -r prog; do
        run_split "$KIT_ROOT/$prog" --help
        grep -q '^Usage: [^ ]* .*\[[A-Z]*\.\.\.\]' <<<"$out_stdout" && continue # takes operands
        run_split "$KIT_ROOT/$prog" unexpected-operand
        [ "$out_status" -eq 2 ] && [ -n "$out_stderr" ] || bad+=("$prog (exit $out_status)")
    done < <(all_programs)
    [ ${#bad[@]} -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}
