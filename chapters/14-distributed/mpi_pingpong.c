/**
 * @file mpi_pingpong.c
 * @brief What a message costs, by size: MPI ping-pong between two ranks, then a pipe, in one run.
 *
 * What to look for: rank 0 sends a message to rank 1, which sends it straight back, a
 * few hundred times per size; half a round trip is the one-way time. Small messages measure
 * latency, the fixed cost of any message; large ones bandwidth, bytes per second. Then rank 0
 * does the same with a forked child through two pipes (chapter 05's way between processes,
 * in lib/pipe_pingpong.c), while rank 1 waits without using a CPU. The table puts the two
 * side by side; every message is checked to come back intact.
 *
 * On one machine, Open MPI moves messages through shared memory (its "vader" transport):
 * usually several times cheaper than a pipe, since a pipe costs two system calls and two
 * copies through the kernel per message. Across machines the same program, unchanged, goes
 * over the network: each message then pays the network's latency (tens of microseconds on
 * Ethernet, hundreds of times the shared-memory figure) and its bandwidth. `--tcp` shows the
 * first part of that on this machine: MPI over TCP on the loopback interface pays the network
 * stack without a wire. Run it on two hosts (README) to see the whole cost: that is the price
 * of outgrowing one machine, and why distributed programs send few, large messages.
 *
 * Open MPI's blocking calls wait by polling, which is why its latency is low and why a
 * waiting rank keeps a CPU busy. With two ranks on one CPU (`taskset -c 0 mpi_pingpong`) the
 * waiting rank must give the CPU away between polls (mpi_yield_when_idle, which the program
 * then asks mpirun for), and most of MPI's lead over the pipe is gone.
 *
 * See also: ../05-queues/pipe_ipc.c (the pipe round trip), mpi_workers.c (small messages).
 *
 * Usage: mpi_pingpong [--round-trips=N] [--max-size=N] [--tcp]
 */
#include "kit.h"

#include "../../harness/mpi-job/mpi_job.h"
#include "lib/pipe_pingpong.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SIZES = 8, REPEATS = 3 };
static const size_t bytes_per_size = 8 << 20; /* caps the round trips of large messages */

static void fill(char *buffer, size_t size)
{
    for (size_t i = 0; i < size; i++)
        buffer[i] = (char)(i * 7 + size);
}

/* MPI: rank 0 sends, rank 1 echoes. Returns rank 0's best one-way time of REPEATS runs, or
 * -1 if an echo came back different. */
static double mpi_pingpong(int rank, char *out, char *back, size_t size, long trips)
{
    double best = INFINITY;
    bool intact = true;
    int bytes = (int)size;
    for (int repeat = 0; repeat < REPEATS; repeat++) {
        memset(back, 0, size);
        /* Start together: a barrier of the two (an empty message each way), not MPI_Barrier,
         * which would wait for every rank of the job. */
        MPI_CHECK(MPI_Sendrecv(NULL, 0, MPI_BYTE, 1 - rank, 1, NULL, 0, MPI_BYTE, 1 - rank, 1,
                               MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        double start = MPI_Wtime();
        for (long trip = 0; trip < trips; trip++) {
            if (rank == 0) {
                MPI_CHECK(MPI_Send(out, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD));
                MPI_CHECK(MPI_Recv(back, bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            } else {
                MPI_CHECK(MPI_Recv(back, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                MPI_CHECK(MPI_Send(back, bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD));
            }
        }
        best = fmin(best, (MPI_Wtime() - start) / (double)trips / 2);
        intact = intact && (rank != 0 || memcmp(out, back, size) == 0); /* rank 0 checks */
    }
    return intact ? best : -1; /* every run to the end: both ranks make the same calls */
}

/* The whole measurement: ranks 0 and 1 play with MPI at every size; then rank 0 plays with a
 * forked child through its pipes (lib/pipe_pingpong.c) while rank 1 (and any other rank) waits
 * in mpi_job_barrier_politely(), which leaves the CPUs to rank 0 and its child. Fills mpi[] and,
 * on rank 0, piped[] (one-way seconds, -1 for a message that came back different). */
static void measure(int rank, int count, const size_t sizes[], const long trips[], size_t max_size,
                    double mpi[], double piped[])
{
    char *out = malloc(max_size), *back = malloc(max_size);
    if (out == NULL || back == NULL)
        kit_die_errno("malloc two buffers of %zu bytes", max_size);
    if (rank < 2) {
        for (int s = 0; s < count; s++) {
            fill(out, sizes[s]);
            mpi[s] = mpi_pingpong(rank, out, back, sizes[s], trips[s]);
        }
    }
    if (rank == 0) {
        for (int s = 0; s < count; s++) {
            fill(out, sizes[s]);
            piped[s] = pipe_pingpong(out, back, sizes[s], trips[s], REPEATS);
        }
    }
    mpi_job_barrier_politely();
    free(out);
    free(back);
}

static const char *size_text(size_t size, char text[static 24])
{
    if (size >= 1 << 20)
        snprintf(text, 24, "%zu MiB", size >> 20);
    else if (size >= 1 << 10)
        snprintf(text, 24, "%zu KiB", size >> 10);
    else
        snprintf(text, 24, "%zu B", size);
    return text;
}

/* Rank 0's table: per size, the one-way time and the bandwidth of MPI and of the pipe. */
static void print_figures(int count, const size_t sizes[], const double mpi[], const double piped[])
{
    printf("%-8s %10s %12s %12s %12s   %s\n", "size", "MPI 1-way", "MPI MB/s", "pipe 1-way",
           "pipe MB/s", "MPI vs pipe");
    for (int s = 0; s < count; s++) {
        char text[24], ratio[32];
        double mb = (double)sizes[s] / 1e6;
        printf("%-8s %7.2f us %12.1f %7.2f us %12.1f   %s\n", size_text(sizes[s], text),
               mpi[s] * 1e6, mb / mpi[s], piped[s] * 1e6, mb / piped[s],
               kit_ratio_text(piped[s] / mpi[s], ratio));
    }
}

static const char usage[] =
    "Usage: mpi_pingpong [options]\n"
    "Time messages going back and forth between two processes: with MPI, then a pipe.\n"
    "  -n, --round-trips=N   round trips per message size, the best of 3 runs counts\n"
    "                        (default 500, 10 to 100000; fewer for large messages)\n"
    "  -s, --max-size=N      largest message in bytes; sizes go up by 16 times from 1\n"
    "                        (default 1048576, 1 to 16777216)\n"
    "  -t, --tcp             when run plainly: MPI over TCP on the loopback interface\n"
    "                        instead of shared memory (mpirun --mca btl self,tcp)\n"
    "  -h, --help            show this help and exit\n";

/* The options, parsed the same way by every rank (mpi_job_options_begin()). */
static void parse_options(int argc, char *argv[], long *round_trips, long *max_size, bool *tcp)
{
    static const struct option options[] = {
        {"round-trips", required_argument, NULL, 'n'},
        {"max-size", required_argument, NULL, 's'},
        {"tcp", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mpi_job_options_begin();
    for (int opt; (opt = getopt_long(argc, argv, "n:s:th", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': *round_trips = kit_parse_long("--round-trips", optarg, 10, 100000); break;
        case 's': *max_size = kit_parse_long("--max-size", optarg, 1, 16 << 20); break;
        case 't': *tcp = true; break;
        case 'h': kit_usage_exit(0);
        default: kit_usage_exit(2);
        }
    }
    kit_no_operands(argc, argv, optind);
    mpi_job_options_end();
}

int main(int argc, char *argv[])
{
    static const char *const over_tcp[] = {
        "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo", NULL};
    long round_trips = 500, max_size = 1 << 20;
    bool tcp = false;
    kit_cli_init(usage);
    parse_options(argc, argv, &round_trips, &max_size, &tcp);
    mpi_job_relaunch(argc, argv, 2, tcp ? over_tcp : NULL); /* run plainly: start mpirun */

    int ranks;
    int rank = mpi_job_start(&argc, &argv, &ranks);
    mpi_job_need_ranks(ranks, 2, INT_MAX, "ranks 0 and 1 play ping-pong");

    /* The plan: sizes 1, 16, 256, ... bytes up to --max-size, and round trips for each. */
    size_t sizes[MAX_SIZES];
    long trips[MAX_SIZES];
    int count = 0;
    for (size_t size = 1; size <= (size_t)max_size; size *= 16, count++) {
        sizes[count] = size;
        trips[count] = (long)fmin((double)round_trips, fmax(10, (double)(bytes_per_size / size)));
    }
    /* Where ranks 0 and 1 run: the same host here, or two (README). */
    char hosts[2][MPI_MAX_PROCESSOR_NAME];
    if (rank < 2) {
        int length;
        MPI_CHECK(MPI_Get_processor_name(hosts[rank], &length));
        MPI_CHECK(MPI_Sendrecv(hosts[rank], MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 1 - rank, 1,
                               hosts[1 - rank], MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 1 - rank, 1,
                               MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    }
    double mpi[MAX_SIZES], piped[MAX_SIZES];
    measure(rank, count, sizes, trips, (size_t)max_size, mpi, piped);
    if (rank != 0)
        return mpi_job_finish(0);

    bool intact = true;
    for (int s = 0; s < count; s++)
        intact = intact && mpi[s] > 0 && piped[s] > 0;
    const char *btl = getenv("OMPI_MCA_btl"); /* mpirun passes --mca btl X on as this */
    printf("rank 0 on %s, rank 1 on %s; MPI transport: %s\n", hosts[0], hosts[1],
           btl ? btl : "Open MPI's choice (shared memory on one host, else the network)");
    printf("ping-pong, best of %d runs of up to %ld round trips per size:\n", REPEATS, round_trips);
    print_figures(count, sizes, mpi, piped);
    if (ranks > 2)
        printf("note: ranks 2 to %d took no part: ping-pong needs two\n", ranks - 1);
    if (!intact) {
        printf("FAILED: a message came back different from what was sent\n");
        return mpi_job_finish(1);
    }
    printf("OK: every message came back intact (%d sizes, MPI and pipe); a 1-byte message takes "
           "%.2f us one way with MPI, %.2f us through a pipe\n",
           count, mpi[0] * 1e6, piped[0] * 1e6);
    return mpi_job_finish(0);
}
