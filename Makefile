# The kit's one Makefile. `make help` lists the targets; README.md tells how to use them.
#
# A program is one .c file in a lesson folder (chapters/NN-x, exercises/NN-x, solutions/NN-x):
# adding a program is adding the file. Code a folder's programs share goes in its lib/ folder
# (each lib/*.c is linked into every program of that folder). Everything built lands in
# build/VARIANT/, one folder per compiler and sanitizer set, so builds never mix.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

# ---- configuration: CC=clang, SANITIZE=address,undefined | thread, WERROR=1 ------------------
ifeq ($(origin CC),default)
CC := gcc
endif
SANITIZE ?=
WERROR ?=

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

# Programs that include <curl/curl.h> link libcurl, found with pkg-config.
CURL_CFLAGS = $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS = $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)

# ---- what there is to build -----------------------------------------------------------------
UNITS := $(patsubst %/,%,$(sort $(wildcard chapters/[0-9][0-9]-*/ exercises/[0-9][0-9]-*/ \
                                           solutions/[0-9][0-9]-*/)))
CHAPTERS := $(filter chapters/%,$(UNITS))
SOURCES := $(foreach unit,$(UNITS),$(wildcard $(unit)/*.c))
PROGRAMS := $(patsubst %.c,$(BUILD)/%,$(SOURCES))
CURL_SOURCES := $(if $(SOURCES),$(shell grep -l '^\#include <curl/curl.h>' $(SOURCES)))

UNIT_LIB_OBJECTS := $(patsubst %.c,$(BUILD)/%.o,$(foreach unit,$(UNITS),$(wildcard $(unit)/lib/*.c)))

KITLIB := $(BUILD)/common/libkit.a
KITLIB_OBJECTS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard common/*.c))

# Debian packages, installed by mk/need-packages when missing (see `make deps`).
BUILD_PACKAGES := make pkg-config $(if $(CURL_SOURCES),libcurl4-openssl-dev) \
                  $(if $(findstring clang,$(CC)),clang)
TEST_PACKAGES := bats bats-support bats-assert procps coreutils util-linux
DOCS_PACKAGES := doxygen

# ---- building -------------------------------------------------------------------------------
.PHONY: all
all: $(PROGRAMS)

# The flags are part of what a program is built from: change them and everything rebuilds.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_TEXT := $(CC) $(KIT_CFLAGS) $(KIT_LDFLAGS) $(KIT_LDLIBS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = '$(FLAGS_TEXT)' ] || echo '$(FLAGS_TEXT)' > $@

$(BUILD)/%.o: %.c $(FLAGS_STAMP) | deps-build
	@mkdir -p $(@D)
	$(CC) $(KIT_CFLAGS) -MMD -MP -c $< -o $@

$(KITLIB): $(KITLIB_OBJECTS)
	$(AR) rcs $@ $^

$(BUILD)/%: %.c $(KITLIB) $(FLAGS_STAMP) | deps-build
	@mkdir -p $(@D)
	$(CC) $(KIT_CFLAGS) $(PROGRAM_CFLAGS) -MMD -MP $< $(filter %.o,$^) $(KITLIB) -o $@ \
	    $(KIT_LDFLAGS) $(PROGRAM_LDLIBS) $(KIT_LDLIBS)

# A folder's lib/*.c objects are linked into each of its programs.
define unit_lib_rule
$(patsubst %.c,$(BUILD)/%,$(wildcard $(1)/*.c)): $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(1)/lib/*.c))
endef
$(foreach unit,$(UNITS),$(if $(wildcard $(unit)/lib/*.c),$(eval $(call unit_lib_rule,$(unit)))))

$(foreach src,$(CURL_SOURCES),$(eval $(BUILD)/$(src:.c=): PROGRAM_CFLAGS = $$(CURL_CFLAGS)))
$(foreach src,$(CURL_SOURCES),$(eval $(BUILD)/$(src:.c=): PROGRAM_LDLIBS = $$(CURL_LIBS)))

-include $(PROGRAMS:=.d) $(KITLIB_OBJECTS:.o=.d) $(UNIT_LIB_OBJECTS:.o=.d)

# ---- one lesson at a time: chapter-NN builds it, run-chapter-NN runs its programs ------------
chapter_number = $(firstword $(subst -, ,$(notdir $(1))))
define chapter_rules
.PHONY: chapter-$(call chapter_number,$(1)) run-chapter-$(call chapter_number,$(1))
chapter-$(call chapter_number,$(1)): $(patsubst %.c,$(BUILD)/%,$(wildcard $(1)/*.c))
run-chapter-$(call chapter_number,$(1)): chapter-$(call chapter_number,$(1))
	@mk/run-chapter $(1) $(BUILD)
endef
$(foreach chapter,$(CHAPTERS),$(eval $(call chapter_rules,$(chapter))))

.PHONY: tour
tour: all
	@status=0; for chapter in $(CHAPTERS); do mk/run-chapter $$chapter $(BUILD) || status=1; done; \
	exit $$status

# ---- tests, benchmarks, docs ----------------------------------------------------------------
# TESTS picks bats files or folders: make test TESTS=tests/chapters/02-races.bats
TESTS ?= tests
.PHONY: test
test: all | deps-test
	@KIT_BUILD=$(BUILD) KIT_BUILD_PREFIX=$(BUILD_PREFIX) KIT_CC='$(CC)' KIT_SANITIZE='$(SANITIZE)' \
	    tests/run $(TESTS)

.PHONY: bench
bench: all
	@KIT_BUILD=$(BUILD) tests/bench/run

.PHONY: docs
docs: | deps-docs
	@mkdir -p build/docs
	doxygen docs/Doxyfile
	@echo "docs: open build/docs/html/index.html"

# ---- system packages ------------------------------------------------------------------------
.PHONY: deps deps-build deps-test deps-docs
deps: deps-build deps-test deps-docs
deps-build:
	@mk/need-packages build $(BUILD_PACKAGES)
deps-test:
	@mk/need-packages tests $(TEST_PACKAGES)
deps-docs:
	@mk/need-packages docs $(DOCS_PACKAGES)

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
	@echo "  make test             run the whole bats suite (TESTS=path picks files or folders)"
	@echo "  make bench            run the measuring programs and print one table of figures"
	@echo "  make docs             build the Doxygen site into build/docs/"
	@echo "  make deps             install the Debian packages the kit needs (as root)"
	@echo "  make clean            remove build/"
	@echo "Options for every target:"
	@echo "  CC=clang  SANITIZE=address,undefined  SANITIZE=thread  WERROR=1"
	@echo "Lessons:"
	@$(foreach chapter,$(CHAPTERS),echo "  $(notdir $(chapter))";)
