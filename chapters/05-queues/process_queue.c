/**
 * @file process_queue.c
 * @brief Several child processes send framed messages through one pipe to one reader; none tear.
 *
 * What to look for: this is the heart of Python's `multiprocessing.Queue`: many processes put,
 * one gets, and underneath there is a pipe. A pipe carries bytes, not messages, so each message
 * is framed: a fixed header (sender, sequence number, payload length, checksum) then the payload.
 * Every child writes each whole message with ONE write() call of at most PIPE_BUF bytes. POSIX
 * promises that such a write is atomic: its bytes land in the pipe together, never mixed with
 * another writer's. The reader checks every message (checksum, sender, per-sender order) and
 * counts what each sender delivered.
 *
 * PIPE_BUF (4096 bytes on Linux) is that atomicity limit, not the pipe's capacity (64 KiB by
 * default). A bigger write may be split when the pipe is full, and another writer's bytes can
 * land in the gap: the reader would then see torn frames. Python's Queue takes a lock around
 * each send for exactly this reason; here, keeping every frame within PIPE_BUF makes a lock
 * unnecessary, and a compile-time check keeps it that way.
 *
 * A sender that dies early (try `kill -KILL` on one) is noticed within 1024 frames: the parent
 * names it and how it ended, stops and reaps the other senders, and exits 1 (reap_senders(), in
 * lib/senders.c).
 *
 * See also: pipe_ipc.c (one child, two pipes), shared_memory.c (sharing memory instead of
 * sending messages).
 *
 * Usage: process_queue [-s N] [-m N]
 */
#include "kit.h"
#include "lib/senders.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: process_queue [options]\n"
    "Child processes send framed messages through one pipe; the parent checks every one.\n"
    "  -s, --senders=N    child processes writing to the pipe (default 4)\n"
    "  -m, --messages=N   messages each child sends (default 2000; 4e6 in all at most)\n"
    "  -h, --help         show this help and exit\n";

enum { READ_END = 0, WRITE_END = 1 };

/* A frame: this header, then `length` bytes of payload. */
struct header {
    uint32_t sender;   /* which child sent it: 0 .. senders-1 */
    uint32_t sequence; /* the sender's message number: 0, 1, 2, ... */
    uint32_t length;   /* payload bytes that follow */
    uint32_t checksum; /* of the payload, so a torn or mixed frame is caught */
};

#define MAX_PAYLOAD 2000
#define MAX_FRAME (sizeof(struct header) + MAX_PAYLOAD)
_Static_assert(MAX_FRAME <= PIPE_BUF, "a frame must fit in one atomic pipe write");

/* The payload length and bytes are a known function of (sender, sequence), so the reader can
 * check the content, not only the checksum. Lengths vary to show real framing at work. */
static uint32_t payload_length(uint32_t sender, uint32_t sequence)
{
    return 1 + (sequence * 37 + sender * 101) % MAX_PAYLOAD;
}

static uint8_t payload_byte(uint32_t sender, uint32_t sequence, uint32_t index)
{
    return (uint8_t)(sender * 131 + sequence * 7 + index);
}

/* FNV-1a, a simple hash: any changed, missing or swapped byte changes it (almost surely). */
static uint32_t checksum(const uint8_t *bytes, size_t size)
{
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ bytes[i]) * 16777619u;
    return hash;
}

/* A child: send `messages` frames, each with a single write(), then exit. */
static void child_send(int pipe_fd, uint32_t sender, long messages)
{
    uint8_t frame[MAX_FRAME];
    struct header header = {.sender = sender};
    for (uint32_t sequence = 0; sequence < (uint32_t)messages; sequence++) {
        uint8_t *payload = frame + sizeof header;
        header.sequence = sequence;
        header.length = payload_length(sender, sequence);
        for (uint32_t i = 0; i < header.length; i++)
            payload[i] = payload_byte(sender, sequence, i);
        header.checksum = checksum(payload, header.length);
        memcpy(frame, &header, sizeof header);
        size_t size = sizeof header + header.length;
        ssize_t put = write(pipe_fd, frame, size); /* atomic: size <= PIPE_BUF */
        if (put == -1)
            kit_child_die_errno("sender %u: write", sender);
        if ((size_t)put != size) { /* cannot happen for a pipe and size <= PIPE_BUF */
            errno = EIO;
            kit_child_die_errno("sender %u: short write of %zd bytes", sender, put);
        }
    }
    if (close(pipe_fd) == -1)
        kit_child_die_errno("sender %u: close", sender);
    _exit(0);
}

/* True when the frame is exactly what its sender must have sent next. received[s] counts the
 * frames sender s has delivered so far, which is also the sequence number it must send next
 * (a sender writes its frames one after another, so they arrive in order). */
static bool frame_is_intact(const struct header *header, const uint8_t *payload, long senders,
                            const long *received)
{
    if (header->sender >= (uint32_t)senders || header->sequence != received[header->sender])
        return false;
    if (header->length != payload_length(header->sender, header->sequence))
        return false;
    for (uint32_t i = 0; i < header->length; i++)
        if (payload[i] != payload_byte(header->sender, header->sequence, i))
            return false;
    return header->checksum == checksum(payload, header->length);
}

/* The reader: take frames until every writer has closed its end (end of file). Returns false
 * at the first bad frame: after a torn frame the stream is out of step, and the next "header"
 * would be somebody's payload. (Writes are atomic, but a read is not promised to return a whole
 * frame: kit_read_full loops.) */
static bool read_frames(int pipe_fd, struct senders *children, long *received)
{
    uint8_t payload[MAX_PAYLOAD];
    struct header header;
    long senders = children->count, frames = 0;
    for (int got; (got = kit_read_full(pipe_fd, &header, sizeof header)) != 0;) {
        if (++frames % 1024 == 0)
            reap_senders(children, WNOHANG); /* one died? then the reader stops too */
        if (got == -1 && errno == EPROTO)
            return false; /* end of file inside a header: a torn frame */
        if (got == -1)
            kit_die_errno("read header");
        if (header.length > MAX_PAYLOAD)
            return false;
        got = kit_read_full(pipe_fd, payload, header.length);
        if (got == 0 || (got == -1 && errno == EPROTO))
            return false; /* end of file inside a payload: a torn frame */
        if (got == -1)
            kit_die_errno("read payload of %u bytes", header.length);
        if (!frame_is_intact(&header, payload, senders, received))
            return false;
        received[header.sender]++;
    }
    return true;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"senders", required_argument, NULL, 's'},
        {"messages", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long senders = 4, messages = 2000;

    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "s:m:h", options, NULL)) != -1;) {
        switch (opt) {
        case 's': senders = kit_parse_long("--senders", optarg, 1, 64); break;
        case 'm': messages = kit_parse_long("--messages", optarg, 1, 10000000); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    if (senders * messages > 4000000) /* about 4 GB through the pipe: a minute */
        kit_usage_error("%ld senders x %ld messages is over the cap of 4e6 in all", senders,
                        messages);

    int fds[2];
    if (pipe(fds) == -1)
        kit_die_errno("pipe");
    printf("%ld senders x %ld messages through one pipe (frames up to %zu bytes, PIPE_BUF %d)\n",
           senders, messages, MAX_FRAME, PIPE_BUF);
    fflush(stdout); /* before fork, so no child inherits unprinted output */

    kit_own_children(); /* Ctrl-C, SIGTERM, an error exit: the senders are stopped and reaped */
    struct senders children = {.count = senders, .pids = calloc((size_t)senders, sizeof(pid_t))};
    if (children.pids == NULL)
        kit_die_errno("calloc for %ld senders", senders);
    for (long s = 0; s < senders; s++) {
        pid_t child = children.pids[s] = fork();
        if (child == -1)
            kit_die_errno("fork sender %ld", s); /* the senders started so far are stopped */
        if (child == 0) {
            if (close(fds[READ_END]) == -1) /* a sender only writes */
                kit_child_die_errno("sender %ld: close read end", s);
            child_send(fds[WRITE_END], (uint32_t)s, messages);
        }
    }
    /* The parent only reads. Its copy of the write end must go, or end of file never comes. */
    if (close(fds[WRITE_END]) == -1)
        kit_die_errno("close write end");

    long *received = calloc((size_t)senders, sizeof *received); /* per sender, in the parent */
    if (received == NULL)
        kit_die_errno("calloc for %ld senders", senders);
    bool intact = read_frames(fds[READ_END], &children, received);
    if (close(fds[READ_END]) == -1)
        kit_die_errno("close read end");
    /* Every sender has closed its end (end of file): each has exited, or is exiting. */
    reap_senders(&children, 0);
    free(children.pids);

    long missing = 0;
    for (long s = 0; s < senders; s++) {
        printf("sender %ld: %ld messages received intact and in order\n", s, received[s]);
        missing += messages - received[s];
    }
    free(received);
    if (!intact || missing != 0) {
        printf("FAILED: %s, %ld messages missing\n",
               !intact ? "a torn or out-of-order frame" : "no bad frame", missing);
        return 1;
    }
    printf("OK: %ld messages from %ld senders, none torn, none lost, each sender's in order\n",
           senders * messages, senders);
    return 0;
}
