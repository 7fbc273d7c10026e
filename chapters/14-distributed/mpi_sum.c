/**
 * @file mpi_sum.c
 * @brief The sum of squares of range(N), split across MPI ranks and combined with MPI_Reduce.
 *
 * What to look for: the same program runs as every rank (SPMD: single program, multiple
 * data). Each rank asks MPI which rank it is and how many there are, sums the squares of its
 * own slice of range(N), and MPI_Reduce adds the partial sums up on rank 0, which prints and
 * judges. No memory is shared: each rank is a separate process, on this machine or another,
 * and the partial sums travel as messages. This is chapter 06's process_pool sum (a map over
 * chunks, then a reduce) without fork and pipes, and Spark's or Dask's `map` + `reduce`
 * without a scheduler or a cluster manager.
 *
 * Mind the integer width: the default, range(10000000), sums to 3.3e20, more than 2^64 (1.8e19).
 * MPI_SUM on MPI_UINT64_T would wrap around silently (the program shows what it would give).
 * The sum stays exact because each rank adds in unsigned __int128 (a GCC and Clang extension,
 * enough up to 3.4e38) and sends it as two 64-bit words (an MPI datatype made with
 * MPI_Type_contiguous); MPI has no built-in 128-bit integer, so the reduction is a user-defined
 * operation (MPI_Op_create) that adds with the carry. Rank 0 then checks the total against
 * its own sequential sum and against the formula (N-1)N(2N-1)/6: exact for any number of ranks.
 *
 * Nothing is timed here: summing squares is too little work to gain from more processes.
 * Each rank runs the kit's one sum_of_squares() (harness/sums, u128 and its decimal text too),
 * the one chapters 06, 11 and 12 time. Chapter 06 measures what splitting CPU work
 * buys; mpi_pingpong.c measures what each message costs.
 *
 * See also: mpi_workers.c (tasks handed out one at a time), mpi_pingpong.c (what a message
 * costs), ../06-pools/process_pool.c (the same sum with fork and pipes).
 *
 * Usage: mpi_sum [--count=N] [--ranks=N]
 */
#include "kit.h"

#include "../../harness/mpi-job/mpi_job.h"
#include "../../harness/sums/sums.h"

#include <getopt.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* How a u128 travels in a message: two 64-bit words, least significant first. */
struct wide {
    uint64_t low, high;
};

static struct wide to_wide(u128 value)
{
    return (struct wide){.low = (uint64_t)value, .high = (uint64_t)(value >> 64)};
}

static u128 from_wide(struct wide value)
{
    return ((u128)value.high << 64) | value.low;
}

/* The reduction MPI applies to two vectors of @p count partial sums: inout[i] += in[i].
 * Addition is commutative, so MPI may combine the parts in any order (MPI_Op_create's 1). */
static void add_wide(void *in, void *inout, int *count, MPI_Datatype *type)
{
    (void)type;
    const struct wide *addend = in;
    struct wide *total = inout;
    for (int i = 0; i < *count; i++)
        total[i] = to_wide(from_wide(total[i]) + from_wide(addend[i]));
}

/* What every rank runs: sum the squares of my slice of range(n) (the slices of all ranks cover
 * it once, their sizes differ by 1 at most), and add the parts up on rank 0 with MPI_Reduce.
 * Rank 0 gets the total in *total, the same parts added as 64-bit integers by the built-in
 * MPI_SUM in *total64, and every rank's part in parts[] (NULL on other ranks). */
static void sum_on_every_rank(uint64_t n, int rank, int size, struct wide *total, uint64_t *total64,
                              struct wide parts[])
{
    MPI_Datatype wide_type; /* two MPI_UINT64_Ts in a row */
    MPI_CHECK(MPI_Type_contiguous(2, MPI_UINT64_T, &wide_type));
    MPI_CHECK(MPI_Type_commit(&wide_type));
    MPI_Op add_op;
    MPI_CHECK(MPI_Op_create(add_wide, 1, &add_op));

    uint64_t first = n * (uint64_t)rank / (uint64_t)size;
    uint64_t end = n * (uint64_t)(rank + 1) / (uint64_t)size;
    struct wide part = to_wide(sum_of_squares(first, end - first));
    MPI_CHECK(MPI_Reduce(&part, total, 1, wide_type, add_op, 0, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Reduce(&part.low, total64, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD));
    MPI_CHECK(MPI_Gather(&part, 1, wide_type, parts, 1, wide_type, 0, MPI_COMM_WORLD));

    MPI_CHECK(MPI_Op_free(&add_op));
    MPI_CHECK(MPI_Type_free(&wide_type));
}

/* Rank 0: who summed what, the total three ways, and the verdict. Returns the exit status. */
static int report(uint64_t n, int size, struct wide total, uint64_t total64,
                  const struct wide parts[])
{
    char text[40];
    printf("sum of squares of range(%llu) on %d rank(s), each summing its own slice:\n",
           (unsigned long long)n, size);
    for (int r = 0; r < size; r++)
        printf("  rank %d: range(%llu, %llu) -> %s\n", r,
               (unsigned long long)(n * (uint64_t)r / (uint64_t)size),
               (unsigned long long)(n * (uint64_t)(r + 1) / (uint64_t)size),
               u128_text(from_wide(parts[r]), text));
    u128 reduced = from_wide(total);
    printf("MPI_Reduce with 128-bit addition: %s\n", u128_text(reduced, text));

    u128 formula = sum_of_squares_formula(n);
    u128 sequential = sum_of_squares(0, n);
    printf("sequential sum on rank 0:         %s\n", u128_text(sequential, text));
    printf("formula (N-1)N(2N-1)/6:           %s\n", u128_text(formula, text));
    if (reduced >> 64 != 0)
        printf("MPI_SUM on 64-bit integers:       %llu (wrong: the total needs more than "
               "64 bits and wrapped around)\n",
               (unsigned long long)total64);
    else
        printf("MPI_SUM on 64-bit integers:       %llu (the total fits in 64 bits)\n",
               (unsigned long long)total64);

    if (reduced != sequential || reduced != formula) {
        printf("FAILED: the ranks' total differs from the sequential sum or the formula\n");
        return 1;
    }
    printf("OK: sum of squares of range(%llu) = %s on %d rank(s), exactly the sequential sum "
           "and the formula\n",
           (unsigned long long)n, u128_text(reduced, text), size);
    return 0;
}

static const char usage[] =
    "Usage: mpi_sum [options]\n"
    "Sum the squares of range(N) across MPI ranks and add the parts up with MPI_Reduce.\n"
    "  -n, --count=N   sum the squares of range(N) (default 10000000, at most 5000000000)\n"
    "  -r, --ranks=N   ranks mpirun starts when this is run plainly (default 2, 1 to 16);\n"
    "                  under mpirun, its -np decides\n"
    "  -h, --help      show this help and exit\n";

/* The options, parsed the same way by every rank (mpi_job_options_begin()). */
static void parse_options(int argc, char *argv[], long *count, long *ranks)
{
    static const struct option options[] = {
        {"count", required_argument, NULL, 'n'},
        {"ranks", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mpi_job_options_begin();
    for (int opt; (opt = getopt_long(argc, argv, "n:r:h", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': *count = kit_parse_long("--count", optarg, 1, 5000000000); break;
        case 'r': *ranks = kit_parse_long("--ranks", optarg, 1, 16); break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    mpi_job_options_end();
}

int main(int argc, char *argv[])
{
    long count = 10000000, ranks = 2;
    kit_cli_init(usage);
    parse_options(argc, argv, &count, &ranks);
    mpi_job_relaunch(argc, argv, (int)ranks, NULL); /* run plainly: start mpirun, copy its output */

    int size;
    int rank = mpi_job_start(&argc, &argv, &size);
    struct wide total, *parts = NULL;
    uint64_t total64;
    if (rank == 0 && (parts = malloc((size_t)size * sizeof *parts)) == NULL)
        kit_die_errno("malloc %d parts", size);
    sum_on_every_rank((uint64_t)count, rank, size, &total, &total64, parts);
    int status = rank == 0 ? report((uint64_t)count, size, total, total64, parts) : 0;
    free(parts);
    return mpi_job_finish(status);
}
