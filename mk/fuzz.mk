# make fuzz: fuzz chapter 09's HTTP request parser and endpoints with libFuzzer (clang), for
# FUZZ_SECONDS seconds (CI runs it briefly). The target, what it checks and how to replay a
# crash: chapters/09-servers/fuzz/http_parser_fuzz.c. The corpus it grows stays in
# build/fuzz/corpus, so each run starts where the last one stopped.
FUZZ_SECONDS ?= 30
FUZZ_DIR := $(BUILD_PREFIX)/fuzz
FUZZ_TARGET := $(FUZZ_DIR)/http_parser_fuzz
FUZZ_SOURCES := chapters/09-servers/fuzz/http_parser_fuzz.c \
    $(addprefix chapters/09-servers/lib/,http_parser.c endpoints.c flaky_ids.c request_values.c \
        response_body.c http_response.c server_stats.c)
FUZZ_CFLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer -D_POSIX_C_SOURCE=200809L -pthread \
    -Wall -Wextra $(if $(filter 1 yes,$(WERROR)),-Werror) \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

HELP_LINES += "  make fuzz             fuzz the HTTP request parser of chapter 09 with libFuzzer (FUZZ_SECONDS=30)"

.PHONY: fuzz deps-fuzz
fuzz: $(FUZZ_TARGET)
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -max_len=10000 -timeout=10 \
	    -dict=chapters/09-servers/fuzz/http.dict -artifact_prefix=$(FUZZ_DIR)/ \
	    -print_final_stats=1 $(FUZZ_DIR)/corpus chapters/09-servers/fuzz/corpus

$(FUZZ_TARGET): $(FUZZ_SOURCES) $(wildcard chapters/09-servers/lib/*.h) | deps-fuzz
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $$(pkg-config --cflags libcjson) $(FUZZ_SOURCES) -o $@ \
	    $$(pkg-config --libs libcjson)

deps-fuzz: deps-unit-chapters-09-servers
	@mk/need-packages fuzz clang libclang-rt-dev

# `make deps` installs what fuzzing needs too.
deps: deps-fuzz
