/**
 * @file map_demo.c
 * @brief Exercise 04's try-it program: your pool_map() squares numbers, some slowly.
 *
 * What to look for: the inputs 1..N are squared by your lib/pool_map.c on --workers threads;
 * each call sleeps a little, the earlier inputs longest, so the calls finish in the reverse of
 * input order. A right map prints the squares in input order anyway, in about the time of the
 * slowest calls, not their sum; with --fail=K, input K fails with EDOM and pool_map() must
 * return that error. With the stub as given, pool_map() returns ENOSYS: not written yet.
 *
 * This program is yours to change and experiment with; the grader does not use it (it has its
 * own, stricter programs: see README.md).
 *
 * Usage: map_demo [-w N] [-n N] [-f K]
 */
#include "kit.h"
#include "lib/pool_map.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: map_demo [options]\n"
    "Squares 1..N with your pool_map(); earlier inputs take longer.\n"
    "  -w, --workers=N   worker threads (default 4)\n"
    "  -n, --inputs=N    inputs, at most 64 (default 8)\n"
    "  -f, --fail=K      make input K (1..N) fail with EDOM (default: none)\n"
    "  -h, --help        show this help and exit\n";

struct input {
    long value;
    double sleep_s;
    bool fail;
};

static int square_slowly(void *arg, long *result)
{
    const struct input *input = arg;
    kit_sleep(input->sleep_s);
    if (input->fail)
        return EDOM;
    *result = input->value * input->value;
    return 0;
}

int main(int argc, char *argv[])
{
    static const struct option options[] = {
        {"workers", required_argument, NULL, 'w'},
        {"inputs", required_argument, NULL, 'n'},
        {"fail", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long workers = 4, count = 8, fail = 0;
    kit_cli_init(usage);
    for (int opt; (opt = getopt_long(argc, argv, "w:n:f:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'w': workers = kit_parse_long("--workers", optarg, 1, 64); break;
        case 'n': count = kit_parse_long("--inputs", optarg, 1, 64); break;
        case 'f': fail = kit_parse_long("--fail", optarg, 1, 64); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);

    struct input inputs[64];
    long results[64] = {0};
    for (long i = 0; i < count; i++)
        inputs[i] = (struct input){
            .value = i + 1, .sleep_s = 0.01 * (double)(count - i), .fail = i + 1 == fail};
    double start = kit_now();
    int error =
        pool_map((int)workers, square_slowly, inputs, sizeof inputs[0], (size_t)count, results);
    double elapsed = kit_seconds_since(start);
    printf("%ld inputs on %ld workers in %.2f s (the calls sleep %.2f s in all):", count, workers,
           elapsed, 0.01 * (double)(count * (count + 1) / 2));
    for (long i = 0; i < count; i++)
        printf(" %ld", results[i]);
    printf("\n");
    if (error != 0) {
        printf("pool_map returned %s (%s)\n", strerror(error),
               error == EDOM ? "the EDOM of --fail, as it should" : "unexpected");
        return error == EDOM && fail > 0 ? 0 : 1;
    }
    if (fail > 0) {
        printf("BROKEN: input %ld failed, but pool_map returned 0: the error was dropped\n", fail);
        return 1;
    }
    for (long i = 0; i < count; i++)
        if (results[i] != (i + 1) * (i + 1)) {
            printf("BROKEN: results[%ld] is %ld, expected %ld\n", i, results[i], (i + 1) * (i + 1));
            return 1;
        }
    printf("OK: every square in input order\n");
    return 0;
}
