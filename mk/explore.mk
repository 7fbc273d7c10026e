# make explore: run a program of any lesson under chapter 13's controlled scheduler, through
# every interleaving up to a preemption bound (or random ones), and replay the one that fails.
#
#   make explore PROG=race_counter ARGS='--iterations=3' [BOUND=2]
#   make explore PROG=race_counter ARGS='--iterations=3' MODE=random [SEED=N] [RUNS=N]
#   make explore PROG=race_counter ARGS='--iterations=3' REPLAY=T1@25
#
# PROG is a program's name (chapters first, then exercises/ and solutions/) or its path, with or
# without .c. The program, its folder's lib/ and the lib/ of the lessons it uses are compiled
# with -fsanitize=thread, which makes the compiler call __tsan_read4() and friends before each
# memory access, but linked with the scheduler's runtime (chapters/13-testing/explore/) instead
# of libtsan, and with the pthread, semaphore, sleep and clock calls wrapped (-Wl,--wrap). common/
# is compiled plainly: its memory is not the program's to race on. All of it lands in its own
# tree, $(BUILD_PREFIX)/explore-CC/, and never mixes with the other variants.
# MAX_RUNS and SECONDS cap the search (default 200000 runs, 120 s): the verdict says when a cap
# ended it. A replay writes its timeline as SVG and Perfetto JSON beside the program. The
# explorer exits 0 when every interleaving passed and 1 on a failing one (which make reports as
# "Error 1", exiting 2 itself); `make explore-path` prints the instrumented program, which runs
# the same way with KIT_EXPLORE=dfs|random|replay in its environment (see the recipe below).

HELP_LINES += "  make explore PROG=NAME ARGS='...' [BOUND=2] [MODE=dfs|random SEED=N] [REPLAY=S]" \
              "                       run every interleaving of a program; replay a failing one"

EXPLORE_BUILD := $(BUILD_PREFIX)/explore-$(notdir $(firstword $(CC)))
EXPLORE_RUNTIME_DIR := chapters/13-testing/explore
EXPLORE_CFLAGS := -std=c11 -g -O1 $(WARNINGS) -pthread -D_POSIX_C_SOURCE=200809L -Icommon $(CFLAGS)
EXPLORE_WRAPPED := pthread_create pthread_join pthread_exit pthread_mutex_lock \
    pthread_mutex_trylock pthread_mutex_timedlock pthread_mutex_unlock pthread_cond_wait \
    pthread_cond_timedwait pthread_cond_signal pthread_cond_broadcast pthread_barrier_init \
    pthread_barrier_wait sem_init sem_wait sem_trywait sem_timedwait sem_post sem_getvalue \
    sched_yield nanosleep clock_nanosleep usleep sleep clock_gettime

# The runtime, then an archive of common/ and trace.c (which draws a replay's timeline), plain.
# An archive, so that a program of chapter 13 links its own (instrumented) trace.o instead.
EXPLORE_RUNTIME_OBJECTS := $(patsubst %.c,$(EXPLORE_BUILD)/plain/%.o,\
    $(wildcard $(EXPLORE_RUNTIME_DIR)/*.c))
EXPLORE_ARCHIVE_OBJECTS := $(patsubst %.c,$(EXPLORE_BUILD)/plain/%.o,\
    chapters/13-testing/lib/trace.c $(wildcard common/*.c))
EXPLORE_ARCHIVE := $(EXPLORE_BUILD)/plain/libexplore.a
EXPLORE_PLAIN_OBJECTS := $(EXPLORE_RUNTIME_OBJECTS) $(EXPLORE_ARCHIVE_OBJECTS)

# The program under test: its source, its folder, and what it links (instrumented).
EXPLORE_SOURCE := $(if $(PROG),$(or $(wildcard $(PROG:.c=).c),\
    $(firstword $(filter %/$(PROG).c,$(filter chapters/%,$(SOURCES))) \
                $(filter %/$(PROG).c,$(SOURCES)))))
EXPLORE_UNIT := $(patsubst %/,%,$(dir $(EXPLORE_SOURCE)))
EXPLORE_TESTED_SOURCES := $(EXPLORE_SOURCE) $(wildcard $(EXPLORE_UNIT)/lib/*.c) \
    $(foreach used,$(call uses_all,$(EXPLORE_UNIT)),$(call archive_sources,$(used)))
EXPLORE_TESTED_OBJECTS := $(patsubst %.c,$(EXPLORE_BUILD)/tsan/%.o,$(EXPLORE_TESTED_SOURCES))
EXPLORE_PROGRAM := $(EXPLORE_BUILD)/$(EXPLORE_SOURCE:.c=)

$(EXPLORE_BUILD)/plain/%.o: %.c mk/explore.mk | deps-build
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$<)$(CC) $(EXPLORE_CFLAGS) -MMD -MP -c $< -o $@

$(EXPLORE_BUILD)/tsan/%.o: %.c mk/explore.mk | deps-build
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$<)$(CC) $(EXPLORE_CFLAGS) -fsanitize=thread -MMD -MP -c $< -o $@

$(EXPLORE_ARCHIVE): $(EXPLORE_ARCHIVE_OBJECTS)
	$(Q)$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $^

# -no-pie: the runtime's return addresses are the program's own, for addr2line to name lines.
$(EXPLORE_PROGRAM): $(EXPLORE_TESTED_OBJECTS) $(EXPLORE_RUNTIME_OBJECTS) $(EXPLORE_ARCHIVE)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) -no-pie -pthread $^ -o $@ \
	    $(foreach call,$(EXPLORE_WRAPPED),-Wl,--wrap=$(call)) -Wl,-z,now -lm $(LDFLAGS)

-include $(EXPLORE_TESTED_OBJECTS:.o=.d) $(EXPLORE_PLAIN_OBJECTS:.o=.d)

MODE ?= dfs
BOUND ?= 2
.PHONY: explore explore-build explore-path
explore-build: $(if $(EXPLORE_SOURCE),$(EXPLORE_PROGRAM))
	@$(if $(EXPLORE_SOURCE),,echo "make explore: no program '$(PROG)' (PROG=NAME, e.g. \
	    PROG=race_counter ARGS='--iterations=3')" >&2; exit 2)

# For scripts (the grader): build the instrumented program and print its path.
explore-path: explore-build
	@echo '$(EXPLORE_PROGRAM)'

explore: explore-build
	@KIT_EXPLORE=$(if $(REPLAY),replay,$(MODE)) KIT_EXPLORE_SCHEDULE='$(REPLAY)' \
	    KIT_EXPLORE_BOUND='$(BOUND)' KIT_EXPLORE_SEED='$(SEED)' KIT_EXPLORE_RUNS='$(RUNS)' \
	    KIT_EXPLORE_MAX_RUNS='$(MAX_RUNS)' KIT_EXPLORE_SECONDS='$(SECONDS)' \
	    KIT_EXPLORE_COMMAND="make explore PROG=$(PROG)$(if $(ARGS), ARGS='$(ARGS)')" \
	    $(if $(REPLAY),KIT_EXPLORE_SVG='$(EXPLORE_PROGRAM).replay.svg' \
	                   KIT_EXPLORE_JSON='$(EXPLORE_PROGRAM).replay.json') \
	    $(EXPLORE_PROGRAM) $(ARGS)
