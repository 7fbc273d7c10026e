/**
 * @file mpi_job.c
 * @brief Starting a program under mpirun, checking MPI calls, leaving nothing running.
 */
#define _GNU_SOURCE /* program_invocation_short_name, pipe2, sigabbrev_np */
#include "mpi_job.h"

#include "kit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* Built with AddressSanitizer (gcc says so with a macro, clang with a feature test)? */
#if defined(__SANITIZE_ADDRESS__)
#define MPI_JOB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MPI_JOB_ASAN 1
#endif
#endif
#ifdef MPI_JOB_ASAN
#include <sanitizer/lsan_interface.h>
#endif

/* The launchers tell each rank who it is in its environment: Open MPI's mpirun sets
 * OMPI_COMM_WORLD_*, MPICH's Hydra PMI_*, and both PMIX_RANK when PMIx is in use. */
static const char *rank_from_environment(void)
{
    const char *rank = getenv("OMPI_COMM_WORLD_RANK");
    if (rank == NULL)
        rank = getenv("PMI_RANK");
    if (rank == NULL)
        rank = getenv("PMIX_RANK");
    return rank;
}

/* True in a process that mpirun started as one rank of a job (Open MPI, MPICH or PMIx). */
static bool is_rank(void)
{
    return rank_from_environment() != NULL;
}

/* Between mpi_job_options_begin() and mpi_job_options_end(): stdout and stderr as they were
 * (-1 on rank 0, which keeps them), and whether the options are still being parsed. */
static int saved_stdout = -1, saved_stderr = -1;
static bool parsing_options;

/* Every rank, right after MPI_Init, says whether it is leaving because of its options (--help
 * or a bad option). The answer is the lowest such rank, or the number of ranks if none is. */
static int first_rank_leaving(bool leaving)
{
    int rank, size, first;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    int mine = leaving ? rank : size;
    MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    return first;
}

/* Runs at exit(). A rank that leaves while parsing its options (--help, a bad option) first
 * meets the others (MPI_Init, first_rank_leaving(), MPI_Finalize), so no rank ends before rank 0
 * has printed its message: otherwise mpirun, seeing a rank end, could kill rank 0 before it
 * had spoken (it happened, once in some thirty runs, when rank 0 started slower than the
 * others). Ranks whose options were fine learn it in mpi_job_start() and leave too. */
static void leave_together(void)
{
    if (!parsing_options)
        return;
    parsing_options = false;
#ifdef MPI_JOB_ASAN
    __lsan_do_leak_check(); /* now, while it can tell Open MPI's memory from ours: see below */
#endif
    if (fflush(stdout) != 0 || fflush(stderr) != 0 || MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return; /* the exit goes on: the status is the one the parser chose */
    first_rank_leaving(true);
    if (MPI_Finalize() != MPI_SUCCESS) /* said, and the exit goes on with the parser's status */
        fprintf(stderr, "%s: MPI_Finalize failed\n", program_invocation_short_name);
}

void mpi_job_options_begin(void)
{
    const char *rank = rank_from_environment();
    if (rank == NULL)
        return;
    parsing_options = true;
    if (atexit(leave_together) != 0)
        kit_die("atexit: cannot register leave_together");
    if (strcmp(rank, "0") == 0)
        return;
    if (fflush(stdout) != 0 || fflush(stderr) != 0)
        kit_die_errno("fflush");
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0)
        kit_die_errno("open /dev/null");
    if ((saved_stdout = dup(STDOUT_FILENO)) < 0 || (saved_stderr = dup(STDERR_FILENO)) < 0)
        kit_die_errno("dup");
    if (dup2(devnull, STDOUT_FILENO) < 0 || dup2(devnull, STDERR_FILENO) < 0)
        kit_die_errno("dup2 /dev/null");
    if (close(devnull) != 0)
        kit_die_errno("close /dev/null");
}

void mpi_job_options_end(void)
{
    parsing_options = false;
    if (saved_stdout < 0)
        return;
    if (fflush(stdout) != 0 || fflush(stderr) != 0)
        kit_die_errno("fflush");
    if (dup2(saved_stdout, STDOUT_FILENO) < 0 || dup2(saved_stderr, STDERR_FILENO) < 0)
        kit_die_errno("dup2");
    if (close(saved_stdout) != 0 || close(saved_stderr) != 0)
        kit_die_errno("close");
    saved_stdout = saved_stderr = -1;
}

/* Print one word of a command so that it can be pasted into a shell. */
static void print_shell_word(const char *word)
{
    if (word[0] != '\0' && strspn(word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789_./=,:+-") == strlen(word)) {
        fputs(word, stdout);
        return;
    }
    putchar('\'');
    for (const char *c = word; *c != '\0'; c++) {
        if (*c == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*c);
    }
    putchar('\'');
}

/* The job that mpi_job_relaunch() started: mpirun, a child of this process, and the read end
 * of the pipe its stdout goes into. This process copies that output to its own stdout,
 * checking each write, and hears its stop signals through a signalfd (they stay blocked), so
 * that what to do about them is decided here, in the loop, not in a signal handler. */
struct job {
    pid_t mpirun;
    int output;  /* mpirun's stdout; -1 once it is at its end */
    int signals; /* a signalfd for SIGINT, SIGTERM, SIGHUP and SIGCHLD */
    int ranks;   /* for the message: how many ranks mpirun stops with it */
    bool reaped; /* mpirun has ended, and wait_status says how */
    int wait_status;
    int stop_signal;    /* the stop signal that came, 0 if none */
    bool output_failed; /* a write to our stdout failed: the rest is read and dropped */
    double kill_at;     /* once asked to stop: when mpirun gets SIGKILL if still there */
};

/* How long mpirun may take to stop its ranks after SIGTERM. It asks them to end, and kills
 * them after odls_base_sigkill_timeout (1 s): a few seconds is plenty. SIGKILL then; a rank
 * dies with its mpirun (PR_SET_PDEATHSIG in mpi_job_start()). */
static const double stop_grace_seconds = 3;

/* Ask mpirun to stop the job: SIGTERM now, SIGKILL at job->kill_at. */
static void stop_job(struct job *job)
{
    if (job->kill_at > 0)
        return; /* already asked */
    job->kill_at = kit_now() + stop_grace_seconds;
    if (!job->reaped && kill(job->mpirun, SIGTERM) != 0)
        kit_die_errno("kill mpirun (pid %d)", (int)job->mpirun);
}

/* What came on the signalfd: SIGCHLD (mpirun may have ended) or a stop signal. */
static void take_signal(struct job *job)
{
    struct signalfd_siginfo info;
    ssize_t got = read(job->signals, &info, sizeof info);
    if (got == -1 && errno == EINTR)
        return;
    if (got != (ssize_t)sizeof info)
        kit_die_errno("read the signalfd");
    if (info.ssi_signo == SIGCHLD) {
        pid_t ended;
        while ((ended = waitpid(job->mpirun, &job->wait_status, WNOHANG)) == -1 && errno == EINTR)
            continue;
        if (ended == -1)
            kit_die_errno("waitpid mpirun (pid %d)", (int)job->mpirun);
        job->reaped = ended == job->mpirun;
        return;
    }
    if (job->stop_signal == 0)
        job->stop_signal = (int)info.ssi_signo;
    stop_job(job);
}

/* What came from mpirun's stdout: copy it to ours, line-buffered and checked. A write that
 * fails (a full disk, a reader that went away) stops the job: its results could not be seen. */
static void copy_output(struct job *job)
{
    char buffer[4096];
    ssize_t got = read(job->output, buffer, sizeof buffer);
    if (got == -1 && errno == EINTR)
        return;
    if (got <= 0) { /* the end (0), or an error that leaves nothing more to read */
        if (close(job->output) != 0)
            kit_die_errno("close mpirun's output");
        job->output = -1;
        return;
    }
    if (job->output_failed)
        return;
    fwrite(buffer, 1, (size_t)got, stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        job->output_failed = true;
        stop_job(job);
    }
}

/* Run the job to its end: copy its output, pass on a stop, reap mpirun. */
static void supervise(struct job *job)
{
    while (job->output != -1 || !job->reaped) {
        struct pollfd ready[2] = {{.fd = job->signals, .events = POLLIN},
                                  {.fd = job->output, .events = POLLIN}};
        int timeout_ms = -1;
        if (job->kill_at > 0 && !job->reaped) {
            double left = job->kill_at - kit_now();
            if (left <= 0) {
                if (kill(job->mpirun, SIGKILL) != 0)
                    kit_die_errno("kill mpirun (pid %d)", (int)job->mpirun);
                job->kill_at = INFINITY; /* sent: from now on, wait for it to be reaped */
            } else if (isfinite(left)) {
                timeout_ms = (int)(left * 1000) + 1;
            }
        }
        int count = poll(ready, job->output != -1 ? 2 : 1, timeout_ms);
        if (count == -1 && errno != EINTR)
            kit_die_errno("poll");
        if (count > 0 && ready[0].revents != 0)
            take_signal(job);
        if (count > 0 && job->output != -1 && ready[1].revents != 0)
            copy_output(job);
    }
}

/* Start mpirun with @p command as a child whose stdout comes back through a pipe, supervise
 * it to its end, and leave as it did. Why not exec mpirun in our place: mpirun writes what the
 * ranks print and ignores a failed write (`> /dev/full` and `| head -1` both gave exit 0,
 * nothing said), and on Ctrl-C or SIGTERM it stops the ranks and exits 1 without a word. Here,
 * a failed write is reported and exits 1 (kit_cli_init's check at exit says why), and a stop
 * signal stops mpirun and its ranks, says so, and ends this process with that signal. */
KIT_NORETURN static void run_job(char *command[], int ranks)
{
    sigset_t stops, previous;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    sigaddset(&stops, SIGCHLD);
    /* mpirun is stopped and reaped on every exit, and so is a rank it leaves behind (mpirun
     * stopped by force leaves its ranks to us, to reap once they die with it): see kit.h.
     * Its signal handlers never run here: the stop signals stay blocked and are read from the
     * signalfd below. */
    kit_own_children();
    /* SIGCHLD ignored (inherited so) would reap mpirun unseen: its default action is wanted. */
    if (signal(SIGCHLD, SIG_DFL) == SIG_ERR)
        kit_die_errno("signal SIGCHLD");
    /* Blocked before the fork: a signal that comes while mpirun starts waits for the loop. */
    if (sigprocmask(SIG_BLOCK, &stops, &previous) != 0)
        kit_die_errno("sigprocmask");
    struct job job = {.ranks = ranks};
    int pipe_ends[2];
    if ((job.signals = signalfd(-1, &stops, SFD_CLOEXEC)) == -1)
        kit_die_errno("signalfd");
    if (pipe2(pipe_ends, O_CLOEXEC) != 0)
        kit_die_errno("pipe for mpirun's output");
    job.mpirun = fork();
    if (job.mpirun == -1)
        kit_die_errno("fork to run mpirun");
    if (job.mpirun == 0) { /* mpirun's stdout is the pipe; its signals are the defaults */
        if (dup2(pipe_ends[1], STDOUT_FILENO) == -1)
            kit_child_die_errno("dup2 the pipe onto mpirun's stdout");
        kit_child_signal_defaults();
        if (sigprocmask(SIG_SETMASK, &previous, NULL) != 0)
            kit_child_die_errno("sigprocmask");
        execvp(command[0], command);
        kit_child_die_errno(
            "run mpirun (it comes with Debian's openmpi-bin: make deps installs it)");
    }
    job.output = pipe_ends[0];
    if (close(pipe_ends[1]) != 0)
        kit_die_errno("close the pipe's write end");

    supervise(&job);

    if (close(job.signals) != 0)
        kit_die_errno("close the signalfd");
    if (job.stop_signal != 0) {
        kit_stop_children(); /* ranks mpirun left: they die with it, reap them */
        fflush(stdout);
        fprintf(stderr, "%s: interrupted by SIG%s: stopped mpirun and its %d rank%s\n",
                program_invocation_short_name, sigabbrev_np(job.stop_signal), job.ranks,
                job.ranks == 1 ? "" : "s");
        /* End as the signal would have ended us, had it not been blocked: the shell sees 130
         * for Ctrl-C, 143 for SIGTERM. */
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, job.stop_signal);
        if (signal(job.stop_signal, SIG_DFL) == SIG_ERR || raise(job.stop_signal) != 0 ||
            sigprocmask(SIG_UNBLOCK, &only, NULL) != 0)
            kit_die_errno("die of SIG%s", sigabbrev_np(job.stop_signal));
        kit_die("still alive after SIG%s", sigabbrev_np(job.stop_signal)); /* cannot happen */
    }
    if (job.output_failed)
        exit(EXIT_FAILURE); /* kit_cli_init's check at exit says which write failed and why */
    if (WIFEXITED(job.wait_status))
        exit(WEXITSTATUS(job.wait_status));
    char how[96];
    fprintf(stderr, "%s: mpirun %s\n", program_invocation_short_name,
            kit_describe_status(job.wait_status, how, sizeof how));
    exit(EXIT_FAILURE);
}

void mpi_job_relaunch(int argc, char *argv[], int ranks, const char *const mpirun_options[])
{
    if (is_rank())
        return;
    /* Open MPI's flags: it refuses root without --allow-run-as-root; it pins each rank to a
     * core of its choice unless told --bind-to none (then the ranks keep this process's CPUs,
     * so `taskset -c 0` holds for them too); it starts at most one rank per core unless
     * allowed to oversubscribe (fine for ranks that wait, slower for ranks that compute). A
     * rank waiting for a message polls without pause; with more ranks than CPUs it must give
     * its CPU away between looks (mpi_yield_when_idle), or each message waits for a scheduler
     * tick (ms). No -q: when a rank fails or is killed, mpirun's notice says which one. */
    char np[16];
    snprintf(np, sizeof np, "%d", ranks);
    int extra = 0;
    while (mpirun_options != NULL && mpirun_options[extra] != NULL)
        extra++;
    char *command[argc + extra + 16];
    int words = 0;
    command[words++] = "mpirun";
    if (geteuid() == 0)
        command[words++] = "--allow-run-as-root";
    command[words++] = "--bind-to";
    command[words++] = "none";
    if (ranks > kit_cpu_count()) {
        command[words++] = "--oversubscribe";
        command[words++] = "--mca";
        command[words++] = "mpi_yield_when_idle";
        command[words++] = "1";
    }
    for (int option = 0; option < extra; option++)
        command[words++] = (char *)mpirun_options[option]; /* execvp's argv is not const */
    command[words++] = "-np";
    command[words++] = np;
    for (int arg = 0; arg < argc; arg++)
        command[words++] = argv[arg];
    command[words] = NULL;

    fputs("$ ", stdout);
    for (int word = 0; word < words; word++) {
        print_shell_word(command[word]);
        putchar(word + 1 < words ? ' ' : '\n');
    }
    /* Output nobody can see (`> /dev/full`): no job to run. The check at exit says why. */
    if (fflush(stdout) != 0 || ferror(stdout))
        exit(EXIT_FAILURE);
    run_job(command, ranks);
}

int mpi_job_start(int *argc, char ***argv, int *size)
{
    /* Open MPI puts each rank in a process group of its own, so killing mpirun's group (as
     * timeout(1) and the tests do) does not reach the ranks. mpirun kills them when it gets
     * SIGTERM or SIGINT; if it is killed with SIGKILL instead, this kills them too. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        kit_die_errno("prctl PR_SET_PDEATHSIG");
    /* A pipe to mpirun is fully buffered: line buffering keeps the output of a killed run. */
    if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
        kit_die("setvbuf stdout: cannot make it line-buffered");

    int rc = MPI_Init(argc, argv);
    if (rc != MPI_SUCCESS)
        kit_die("MPI_Init failed with error code %d", rc); /* no MPI_Error_string before Init */
    /* From here on, a failed call on MPI_COMM_WORLD returns its error code to MPI_CHECK(). */
    MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int rank;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, size));
    /* Normally every rank has the same options. Started by hand with different ones (mpirun
     * -np 1 prog : -np 1 prog --bad), a rank may have left while parsing: then all leave. */
    int leaving = first_rank_leaving(false);
    if (leaving < *size) {
        if (rank == 0)
            fprintf(stderr,
                    "%s: rank %d rejected its options (run it alone with them to see "
                    "why): ending the job\n",
                    program_invocation_short_name, leaving);
        exit(mpi_job_finish(2));
    }
    return rank;
}

void mpi_job_abort(const char *format, ...)
{
    int rank = -1; /* stays -1 if even this fails: the message still goes out */
    if (MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS)
        rank = -1;
    fflush(stdout);
    fprintf(stderr, "%s: rank %d: ", program_invocation_short_name, rank);
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    MPI_Abort(MPI_COMM_WORLD, 1); /* ends every rank; mpirun says so, and exits with status 1 */
    exit(1);                      /* not reached: MPI_Abort does not return */
}

void mpi_job_need_ranks(int size, int min, int max, const char *why)
{
    if (size >= min && size <= max)
        return;
    int rank;
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    if (rank == 0 && max == INT_MAX)
        fprintf(stderr, "%s: needs at least %d ranks (%s), got %d\n", program_invocation_short_name,
                min, why, size);
    else if (rank == 0)
        fprintf(stderr, "%s: needs %d to %d ranks (%s), got %d\n", program_invocation_short_name,
                min, max, why, size);
    exit(mpi_job_finish(2));
}

MPI_Status mpi_job_recv_within(void *buffer, int count, MPI_Datatype type, int tag, double seconds)
{
    double deadline = kit_now() + seconds;
    MPI_Status status;
    for (int arrived = 0; !arrived;) {
        MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &arrived, &status));
        if (!arrived && kit_now() > deadline)
            mpi_job_abort("no message with tag %d from any rank in %.1f s (is one stuck?): "
                          "ending the job",
                          tag, seconds);
    }
    /* Now that one has come, receive that very message: from its sender, with its tag. */
    MPI_CHECK(MPI_Recv(buffer, count, type, status.MPI_SOURCE, tag, MPI_COMM_WORLD, &status));
    return status;
}

int mpi_job_finish(int status)
{
#ifdef MPI_JOB_ASAN
    /* LeakSanitizer normally looks for leaks at exit. MPI_Finalize unloads Open MPI's plugins,
     * and what they keep until exit then shows as leaks from "<unknown module>", which no
     * suppression can name. So look now, while Open MPI's memory is still reachable: a leak
     * of the program's own is reported here (and ends the process with an error), and the
     * check at exit is off from here on. */
    __lsan_do_leak_check();
#endif
    int rc = MPI_Finalize();
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Finalize failed with error code %d\n",
                program_invocation_short_name, rc);
        return 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: write to stdout: %s\n", program_invocation_short_name,
                strerror(errno));
        return 1;
    }
    return status;
}

void mpi_job_barrier_politely(void)
{
    MPI_Request request;
    MPI_CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &request));
    for (int done = 0;;) {
        MPI_CHECK(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
        if (done)
            return;
        kit_sleep(0.001);
    }
}

void mpi_job_check_at(const char *file, int line, int rc, const char *call)
{
    if (rc == MPI_SUCCESS)
        return;
    char reason[MPI_MAX_ERROR_STRING];
    int length;
    if (MPI_Error_string(rc, reason, &length) != MPI_SUCCESS)
        snprintf(reason, sizeof reason, "MPI error code %d", rc);
    const char *base = strrchr(file, '/');
    mpi_job_abort("%s: %s [%s:%d]", call, reason, base ? base + 1 : file, line);
}

/* Open MPI drops some memory on the floor during MPI_Init, by design, and LeakSanitizer
 * would report it in every AddressSanitizer build. These hooks, which the sanitizer runtime
 * calls at start-up, tell it to ignore leaks whose allocation went through Open MPI's own
 * libraries (and the PMIx, hwloc and libevent libraries it is built on), and only those: a
 * leak of the chapter's code is still reported. Matching a library needs whole stack traces
 * at each malloc (fast_unwind_on_malloc=0): Open MPI's plugins have no frame pointers, which
 * the fast unwinder needs to see past them. */
#ifdef MPI_JOB_ASAN
const char *__asan_default_options(void);
const char *__lsan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}

const char *__lsan_default_suppressions(void)
{
    return "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\n"
           "leak:libhwloc.so\nleak:libevent\n";
}
#endif
