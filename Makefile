# The kit's one Makefile. `make help` lists the targets; README.md tells how to use them.
#
# A program is one .c file in a lesson folder (chapters/NN-x, exercises/NN-x, solutions/NN-x):
# adding a program is adding the file. Code a folder's programs share goes in its lib/ folder
# (built into one archive that every program of that folder links). The kit's plumbing, code
# that lessons stand on but do not teach (the local server's launcher, the fetch set-up, the MPI
# job harness, ...), lives in harness/NAME/ folders, each built into an archive of its own.
# What a folder builds on beyond common/ (another folder's code, a pkg-config package, a
# compiler such as mpicc) it declares in its uses.mk: see "what a folder uses" below. Everything
# built lands in build/VARIANT/, one folder per compiler and sanitizer set, so builds never mix.
#
# Reading order: configuration, what there is to build, what a folder uses, the build rules,
# one chapter at a time, tests and docs, packages, then the targets mk/*.mk adds.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

# ---- configuration: CC=clang, SANITIZE=address,undefined | thread, WERROR=1, V=1 -------------
ifeq ($(origin CC),default)
CC := gcc
endif
SANITIZE ?=
WERROR ?=

# A build shows one short line per file ("  CC  chapters/02-races/race_counter.c"); V=1 shows
# the full command lines instead, and make -s neither.
V ?=
ifeq ($(filter 1,$(V)),)
Q := @
say = $(if $(findstring s,$(firstword -$(MAKEFLAGS))),,printf '  %-4s %s\n' '$(1)' '$(2)';)
endif

# BUILD_PREFIX keeps separate trees apart, e.g. for two people building in one checkout.
BUILD_PREFIX ?= build
comma := ,
VARIANT := $(notdir $(firstword $(CC)))$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))
BUILD := $(BUILD_PREFIX)/$(VARIANT)

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
            $(if $(filter 1 yes,$(WERROR)),-Werror)
# Sanitizer builds use -O1: fast enough, and their reports keep readable stack traces.
OPTIMISE := $(if $(SANITIZE),-O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE),-O2)
KIT_CFLAGS := -std=c11 -g $(OPTIMISE) $(WARNINGS) -pthread -D_POSIX_C_SOURCE=200809L \
              -Icommon $(CFLAGS)
KIT_LDFLAGS := -pthread $(if $(SANITIZE),-fsanitize=$(SANITIZE)) $(LDFLAGS)
KIT_LDLIBS := -lm $(LDLIBS)

# ---- what there is to build -----------------------------------------------------------------
UNITS := $(patsubst %/,%,$(sort $(wildcard chapters/[0-9][0-9]-*/ exercises/[0-9][0-9]-*/ \
                                           solutions/[0-9][0-9]-*/)))
CHAPTERS := $(filter chapters/%,$(UNITS))
SOURCES := $(foreach unit,$(UNITS),$(wildcard $(unit)/*.c))
PROGRAMS := $(patsubst %.c,$(BUILD)/%,$(SOURCES))
# harness/NAME/: the kit's plumbing, no programs; its *.c files make its archive.
HARNESS := $(patsubst %/,%,$(sort $(wildcard harness/*/)))
FOLDERS := $(UNITS) $(HARNESS)
# The .c files of a folder's archive: a lesson's lib/*.c, or a harness folder's *.c.
archive_sources = $(wildcard $(if $(filter harness/%,$(1)),$(1)/*.c,$(1)/lib/*.c))
UNIT_LIB_OBJECTS := $(patsubst %.c,$(BUILD)/%.o,$(foreach folder,$(FOLDERS),$(call archive_sources,$(folder))))

KITLIB := $(BUILD)/common/libkit.a
KITLIB_OBJECTS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard common/*.c))

# ---- what a folder uses --------------------------------------------------------------------
# A folder that builds on more than common/ says so in its uses.mk, in up to seven lines:
#
#   uses_code     := harness/fetch            folders whose code its programs link (lessons'
#                                             lib/ or harness/): the direct ones only
#   uses_programs := chapters/09-servers      lessons whose programs its code runs
#   uses_packages := libcjson                 pkg-config packages it compiles and links with
#   uses_debian   := libcjson-dev             the Debian packages those come from
#   uses_compiler := OMPI_CC=$(CC) mpicc      a compiler wrapper for its programs and its code
#   uses_test     := curl                     Debian packages its tests need (make test)
#   uses_bench    := nginx-light wrk          Debian packages its bench rows need (make bench)
#
# The Makefile follows uses_code transitively: a program links its own archive, then the archive
# of every folder it uses directly or through another, each before the ones it needs, then the
# kit's library; it compiles with all their packages; and the programs of every lesson it uses,
# or whose programs those folders run, are built first (harness/loopback starts chapter 09's
# loop_server). A program includes a used folder's header by its path, so the reader sees where
# it comes from: #include "../../harness/fetch/fetch.h". Each folder's uses are read into
# FOLDER.uses, FOLDER.programs, FOLDER.packages, FOLDER.debian and FOLDER.compiler.
define read_uses
uses_code :=
uses_programs :=
uses_packages :=
uses_debian :=
uses_compiler :=
uses_test :=
uses_bench :=
include $(1)/uses.mk
$(1).uses := $$(uses_code)
$(1).programs := $$(uses_programs)
$(1).packages := $$(uses_packages)
$(1).debian := $$(uses_debian)
$(1).compiler := $$(uses_compiler)
$(1).test := $$(uses_test)
$(1).bench := $$(uses_bench)
endef
$(foreach folder,$(FOLDERS),$(if $(wildcard $(folder)/uses.mk),$(eval $(call read_uses,$(folder)))))

# Every folder FOLDER uses, directly or not, in link order. uses_walk lists them depth first,
# each followed by what it uses; keeping only the last copy of each name then puts every folder
# before all the folders it needs (a folder's last copy is followed by a copy of each of its
# uses). The uses must not form a cycle.
uses_walk = $(foreach used,$($(1).uses),$(used) $(call uses_walk,$(used)))
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
first_copies = $(if $(1),$(firstword $(1)) $(call first_copies,$(filter-out $(firstword $(1)),$(1))))
uses_all = $(strip $(call reverse,$(call first_copies,$(call reverse,$(call uses_walk,$(1))))))

# The archive of a folder's code, or nothing when it has none.
lesson_archive = $(if $(call archive_sources,$(1)),$(BUILD)/$(1)/$(if $(filter harness/%,$(1)),libharness.a,lib/liblesson.a))
# The programs of a folder, as built files (a harness folder has none).
unit_programs = $(if $(filter harness/%,$(1)),,$(patsubst %.c,$(BUILD)/%,$(wildcard $(1)/*.c)))
# The pkg-config packages of a folder and of every folder it uses.
all_packages = $(sort $($(1).packages) $(foreach used,$(call uses_all,$(1)),$($(used).packages)))
# The programs a folder's programs need built first: those of the lessons it uses, directly or
# not, and of the lessons whose programs those folders run (never its own).
programs_needed = $(foreach lesson,$(filter-out $(1),$(sort $(call uses_all,$(1)) \
    $($(1).programs) $(foreach used,$(call uses_all,$(1)),$($(used).programs)))),\
    $(call unit_programs,$(lesson)))

# Debian packages, installed by mk/need-packages when missing (see `make deps`). A folder's own
# packages are installed when that folder is built; `make deps` installs them all.
BUILD_PACKAGES := make pkg-config $(if $(findstring clang,$(CC)),clang)
LESSON_PACKAGES := $(sort $(foreach folder,$(FOLDERS),$($(folder).debian)))
TEST_PACKAGES := bats bats-support bats-assert procps coreutils util-linux \
                 $(foreach folder,$(FOLDERS),$($(folder).test))
DOCS_PACKAGES := doxygen graphviz gnuplot-nox
FORMAT_PACKAGES := clang-format
BENCH_PACKAGES := $(foreach folder,$(FOLDERS),$($(folder).bench))

# ---- building -------------------------------------------------------------------------------
.PHONY: all
all: $(PROGRAMS)

# The flags are part of what a program is built from: change them and everything rebuilds.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_TEXT := $(CC) $(KIT_CFLAGS) $(KIT_LDFLAGS) $(KIT_LDLIBS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = '$(FLAGS_TEXT)' ] || echo '$(FLAGS_TEXT)' > $@

# UNIT_CC, UNIT_CFLAGS and UNIT_LDLIBS are a folder's uses (set per folder below).
$(BUILD)/%.o: %.c $(FLAGS_STAMP) | deps-build
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$<)$(or $(UNIT_CC),$(CC)) $(KIT_CFLAGS) $(UNIT_CFLAGS) -MMD -MP -c $< -o $@

$(KITLIB): $(KITLIB_OBJECTS)
	$(Q)$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $^

# A folder's archive holds its code's .o files; it is made anew when one of them changes, and
# when a file comes or goes (its .members file lists them): a deleted lib/x.c must not live on
# in the archive, where it would be linked before the folder it moved to.
make_archive = $(Q)$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $(filter %.o,$^)
$(BUILD)/%/lib/liblesson.a:
	$(make_archive)
$(BUILD)/harness/%/libharness.a:
	$(make_archive)

# A program links its own folder's archive, then the archives of the folders it uses, then the
# kit's library: each archive before the ones it needs (UNIT_ARCHIVES, set per folder).
$(BUILD)/%: %.c $(KITLIB) $(FLAGS_STAMP) | deps-build
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$<)$(or $(UNIT_CC),$(CC)) $(KIT_CFLAGS) $(UNIT_CFLAGS) -MMD -MP $< \
	    $(UNIT_ARCHIVES) $(KITLIB) -o $@ $(KIT_LDFLAGS) $(UNIT_LDLIBS) $(KIT_LDLIBS)

# Per folder: its archive, what its programs link, and its uses. The variables are private so
# that they never leak into a prerequisite (libkit.a must not be built with mpicc), and
# recursive (=) so that pkg-config runs after deps-unit-* has installed the packages.
define unit_rules
ifneq ($(call lesson_archive,$(1)),)
$(call lesson_archive,$(1)): $(patsubst %.c,$(BUILD)/%.o,$(call archive_sources,$(1))) \
    $(dir $(call lesson_archive,$(1))).members
$(dir $(call lesson_archive,$(1))).members: FORCE
	@mkdir -p $$(@D)
	@[ "$$$$(cat $$@ 2>/dev/null)" = '$(call archive_sources,$(1))' ] || echo '$(call archive_sources,$(1))' > $$@
endif
$(call unit_programs,$(1)): private UNIT_ARCHIVES = $(call lesson_archive,$(1)) \
    $(foreach used,$(call uses_all,$(1)),$(call lesson_archive,$(used)))
$(call unit_programs,$(1)): $(call lesson_archive,$(1)) \
    $(foreach used,$(call uses_all,$(1)),$(call lesson_archive,$(used))) \
    | deps-unit-$(subst /,-,$(1)) $(call programs_needed,$(1))
$(call unit_programs,$(1)) $(patsubst %.c,$(BUILD)/%.o,$(call archive_sources,$(1))): \
    private UNIT_CC = $($(1).compiler)
$(call unit_programs,$(1)) $(patsubst %.c,$(BUILD)/%.o,$(call archive_sources,$(1))): \
    private UNIT_CFLAGS = $(if $(call all_packages,$(1)),$$(shell pkg-config --cflags $(call all_packages,$(1))))
$(call unit_programs,$(1)): private UNIT_LDLIBS = \
    $(if $(call all_packages,$(1)),$$(shell pkg-config --libs $(call all_packages,$(1))))
$(patsubst %.c,$(BUILD)/%.o,$(call archive_sources,$(1))): | deps-unit-$(subst /,-,$(1))
.PHONY: deps-unit-$(subst /,-,$(1))
deps-unit-$(subst /,-,$(1)): deps-build $(foreach used,$($(1).uses),deps-unit-$(subst /,-,$(used)))
	@$(if $($(1).debian),mk/need-packages $(1) $($(1).debian))
endef
$(foreach folder,$(FOLDERS),$(eval $(call unit_rules,$(folder))))

-include $(PROGRAMS:=.d) $(KITLIB_OBJECTS:.o=.d) $(UNIT_LIB_OBJECTS:.o=.d)

# ---- one lesson at a time: chapter-NN builds it, run-chapter-NN runs its programs ------------
# mk/run-chapter knows the sanitizer: under SANITIZE=thread, the report of a deliberately racy
# demo (its header says @deliberate_race) is the lesson, not a failure.
RUN_CHAPTER = KIT_SANITIZE='$(SANITIZE)' mk/run-chapter
chapter_number = $(firstword $(subst -, ,$(notdir $(1))))
CHAPTER_NUMBERS := $(foreach chapter,$(CHAPTERS),$(call chapter_number,$(chapter)))
define chapter_rules
.PHONY: chapter-$(call chapter_number,$(1)) run-chapter-$(call chapter_number,$(1))
chapter-$(call chapter_number,$(1)): $(call unit_programs,$(1))
run-chapter-$(call chapter_number,$(1)): chapter-$(call chapter_number,$(1))
	@$(RUN_CHAPTER) $(1) $(BUILD)
endef
$(foreach chapter,$(CHAPTERS),$(eval $(call chapter_rules,$(chapter))))

# A chapter that does not exist (make run-chapter-1): say which ones do.
chapter-% run-chapter-%:
	@echo "make: there is no chapter '$*'; the chapters are: $(CHAPTER_NUMBERS)" >&2
	@$(if $(filter %$*,$(CHAPTER_NUMBERS)),echo "Did you mean: make \
	    $(patsubst %$*,%,$@)$(firstword $(filter %$*,$(CHAPTER_NUMBERS)))" >&2)
	@exit 2

# Runs every chapter, then one line: chapters and programs run, and their verdicts.
.PHONY: tour
tour: all
	@summary=$$(mktemp) && trap 'rm -f "$$summary"' EXIT && status=0 && \
	for chapter in $(CHAPTERS); do \
	    $(RUN_CHAPTER) --summary "$$summary" $$chapter $(BUILD) || status=1; \
	done && mk/run-chapter --total "$$summary" && exit $$status

# ---- tests, benchmarks, docs ----------------------------------------------------------------
# TESTS picks bats files or folders: make test TESTS=tests/chapters/02-races.bats; FILTER=REGEX
# the tests whose names match. By default: the layers (tests/layout.bats, on the sources), the
# command-line contract, every lesson, and every exercise's grading run on its reference
# solution. The grader's own tests (tests/grade: stubs score zero, the broken solutions are
# caught) take two minutes more: make grade-selftest runs them; the READMEs' try-this lines a
# minute: make test-readme. CI runs all three.
TESTS ?= tests/layout.bats tests/cli_contract.bats tests/chapters tests/exercises
# What the picked tests need built: tests/chapters/NN-x.bats needs chapters/NN-x (and, through
# its uses.mk, the lessons it uses); tests/exercises/NN-x.bats needs exercises/NN-x and
# solutions/NN-x; tests/layout.bats nothing; anything else (tests/cli_contract.bats, a folder)
# needs every program.
test_units_of = $(or $(filter $(patsubst tests/%.bats,%,$(1)) \
                              $(patsubst tests/exercises/%.bats,solutions/%,$(1)),$(UNITS)),all)
TEST_UNITS := $(sort $(foreach path,$(filter-out tests/layout.bats,$(patsubst ./%,%,$(TESTS))),\
                  $(if $(filter tests/chapters/%.bats tests/exercises/%.bats,$(path)),\
                       $(call test_units_of,$(path)),all)))
TEST_PROGRAMS := $(if $(filter all,$(TEST_UNITS)),$(PROGRAMS),\
                      $(foreach unit,$(TEST_UNITS),$(call unit_programs,$(unit))))
.PHONY: test
test: $(TEST_PROGRAMS) | deps-test
	@KIT_BUILD=$(BUILD) KIT_BUILD_PREFIX=$(BUILD_PREFIX) KIT_CC='$(CC)' KIT_SANITIZE='$(SANITIZE)' \
	    KIT_TEST_FILTER='$(FILTER)' KIT_README_LINES='$(README_LINES)' tests/run $(TESTS)

# The chapter READMEs' try-this lines, at the sizes the READMEs give (about a minute).
.PHONY: test-readme
test-readme: | deps-test
	@$(MAKE) -s test TESTS=tests/chapters FILTER='^README: ' README_LINES=1

# The build folder of these settings, for scripts: make -s build-folder SANITIZE=thread
.PHONY: build-folder
build-folder:
	@echo '$(BUILD)'

.PHONY: bench
bench: all | deps-bench
	@KIT_BUILD=$(BUILD) tests/bench/run

# The site goes to $(BUILD_PREFIX)/docs/html. Its pictures are drawn first, into
# $(DOCS)/pictures (docs/pictures/draw), two of them by running the kit's own programs.
DOCS := $(BUILD_PREFIX)/docs
DOCS_PROGRAMS := $(addprefix $(BUILD)/chapters/,09-servers/c10k_client 09-servers/loop_server \
                   09-servers/thread_server 13-testing/timelines)
.PHONY: docs docs-check
docs: $(DOCS_PROGRAMS) | deps-docs
	@rm -rf $(DOCS)/html $(DOCS)/pictures $(DOCS)/filter.log && mkdir -p $(DOCS) # nothing stale
	$(Q)$(call say,DRAW,docs/pictures)docs/pictures/draw $(DOCS)/pictures $(BUILD)
	$(Q)$(call say,DOXY,docs/Doxyfile)KIT_DOCS=$(DOCS) doxygen docs/Doxyfile
	@[ ! -s $(DOCS)/filter.log ] || { echo "docs: docs/filter failed (above)" >&2; exit 1; }
	@echo "docs: open $(DOCS)/html/index.html"

# Opens every page of the site in headless Chromium: broken links, missing pictures, lesson
# pages without their previous/next links; SHOTS=DIR also keeps a screenshot of each lesson.
# Chromium is a large package that only this check needs, so `make deps` leaves it out.
docs-check: docs
	@mk/need-packages docs-check chromium python3
	$(Q)$(call say,CHECK,$(DOCS)/html)docs/check-site $(DOCS)/html $(SHOTS)

# ---- layout: .clang-format ------------------------------------------------------------------
FORMAT_SOURCES = $(sort $(shell find common harness chapters exercises solutions tests \
                                     -name '*.[ch]' -not -path '*/build/*' 2>/dev/null))
.PHONY: format format-check
format: | deps-format
	$(Q)$(call say,FMT,$(words $(FORMAT_SOURCES)) files)clang-format -i $(FORMAT_SOURCES)

# Names every file whose layout differs from .clang-format, and fails if there is one (CI).
format-check: | deps-format
	@clang-format --dry-run $(FORMAT_SOURCES) 2>&1 | \
	    awk -F: '/: (warning|error): code should be clang-formatted/ { count[$$1]++ } \
	        END { for (file in count) printf "%s: %d place(s) to change\n", file, count[file]; \
	              if (length(count)) { printf "format-check: %d files differ from .clang-format " \
	                  "(make format fixes them)\n", length(count); exit 1 } }'

# ---- system packages ------------------------------------------------------------------------
.PHONY: deps deps-build deps-test deps-docs deps-bench deps-format
deps:
	@mk/need-packages --verbose 'the kit' $(sort $(BUILD_PACKAGES) $(LESSON_PACKAGES) \
	    $(TEST_PACKAGES) $(DOCS_PACKAGES) $(BENCH_PACKAGES) $(FORMAT_PACKAGES))
deps-build:
	@mk/need-packages build $(BUILD_PACKAGES)
deps-bench:
	@$(if $(BENCH_PACKAGES),mk/need-packages bench $(BENCH_PACKAGES))
deps-test:
	@mk/need-packages tests $(TEST_PACKAGES)
deps-docs:
	@mk/need-packages docs $(DOCS_PACKAGES)
deps-format:
	@mk/need-packages format $(FORMAT_PACKAGES)

# ---- more targets: each mk/*.mk adds a few (grading, fuzzing, ...) ---------------------------
# A fragment adds its lines to `make help` with: HELP_LINES += "  make fuzz ...  what it does"
HELP_LINES :=
include $(sort $(wildcard mk/*.mk))

# ---- housekeeping ---------------------------------------------------------------------------
.PHONY: clean help FORCE
FORCE:
clean:
	rm -rf build

help:
	@echo "Concurrency in C, a teaching kit. Targets:"
	@echo "  make                  build every program (into $(BUILD)/)"
	@echo "  make chapter-NN       build one lesson, e.g. make chapter-03"
	@echo "  make run-chapter-NN   build one lesson and run its programs in order"
	@echo "  make tour             run every lesson"
	@echo "  make test             test every lesson and grade every solution (TESTS=path, FILTER=re)"
	@echo "  make test-readme      run the try-this lines of every chapter README"
	@echo "  make bench            run the measuring programs and print one table of figures"
	@echo "  make docs             build the Doxygen site into build/docs/"
	@echo "  make docs-check       open every docs page in headless Chromium, follow every link"
	@echo "  make format           lay out every .c and .h as .clang-format says"
	@echo "  make format-check     name the files whose layout differs (CI)"
	@echo "  make deps             install the Debian packages the kit needs (as root)"
	@echo "  make clean            remove build/"
	@$(if $(HELP_LINES),printf '%s\n' $(HELP_LINES))
	@echo "Options for every target:"
	@echo "  CC=clang  SANITIZE=address,undefined  SANITIZE=thread  WERROR=1  V=1 (full command lines)"
	@echo "Lessons:"
	@$(foreach chapter,$(CHAPTERS),echo "  $(notdir $(chapter))";)
