# brink — build, test and demo.
#   make            release build: bin/brink
#   make asan       AddressSanitizer + UndefinedBehaviorSanitizer build in build/asan/
#   make test       install deps, build the asan variant, run every test (tests/run, files in
#                   parallel) while the release build goes on beside them
#   make check      the fast tier while working (deps installed): build the asan variant, run the
#                   unit tests and the fast integration tests (tests/run --fast; < 90 s once built)
#   make demo       install deps, build, run brink suite quick (the four tests on the embedded stack)
#   make demo-untuned   the same on dispatchd's untuned configuration: red, with advice
#   make format     format the sources with .clang-format
#   make bench      run bench/engine-vs-wrk
#   make tuning-table   each dispatchd tuning knob untuned vs tuned, measured (bench/tuning-table, ~10 min)
#   make fuzz       build the libFuzzer harnesses (clang, ASan+UBSan, build/fuzz/) and run each for
#                   FUZZ_SECONDS (60) on a scratch copy of tests/fuzz/corpus/ (docs/fuzzing.md)

CC      ?= gcc
NPROC   := $(shell nproc 2>/dev/null || echo 2)
VARIANT ?= release
BUILD   := build/$(VARIANT)

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CSTD    := -std=c11 -D_GNU_SOURCE
INC     := -Isrc -I/usr/include/postgresql
ifeq ($(VARIANT),asan)
  # -g1: line tables, all a sanitizer report needs, in three quarters of -g's compile time
  OPT      := -O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN    := -fsanitize=address,undefined
else
  OPT      := -O2 -g
  LDSAN    :=
endif
CFLAGS  += $(CSTD) $(WARN) $(OPT) $(INC) -MMD -MP
LDLIBS  := -lmicrohttpd -lpq -lhiredis -lssl -lcrypto -lz -lhttp_parser -ljansson -lyaml -lpthread -lm

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/main.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
SVC_SRC  := $(wildcard service/*.c)
SVC_OBJ  := $(SVC_SRC:%.c=$(BUILD)/%.o)
SVC_BIN  := $(if $(SVC_SRC),$(BUILD)/dispatchd)
SRV_SRC  := $(wildcard tests/servers/*.c)
SRV_BIN  := $(SRV_SRC:tests/servers/%.c=$(BUILD)/servers/%)

.SECONDARY:
.PHONY: all asan test check demo demo-untuned format clean bench check-format variant-all fuzz \
    fuzz-build

all:
	@$(MAKE) --no-print-directory VARIANT=release variant-all
	@mkdir -p bin && cp build/release/brink bin/.brink.tmp && mv -f bin/.brink.tmp bin/brink
	@if [ -f build/release/dispatchd ]; then \
	    cp build/release/dispatchd bin/.dispatchd.tmp && mv -f bin/.dispatchd.tmp bin/dispatchd; fi

asan:
	@$(MAKE) --no-print-directory VARIANT=asan variant-all

variant-all: $(BUILD)/brink $(SVC_BIN) $(UNIT_BIN) $(SRV_BIN)

$(BUILD)/brink: $(MAIN_OBJ) $(BUILD)/libbrink.a
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/dispatchd: $(SVC_OBJ) $(BUILD)/libbrink.a
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/libbrink.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libbrink.a
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/servers/%: $(BUILD)/tests/servers/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

# make test: the tests run on the asan build while the release build (which must compile too)
# goes on at the lowest priority, on the CPU the tests leave idle while they wait on outages. The
# fuzz harnesses' quick build (tests/integration/fuzz.sh runs them) is made with the asan build.
# Test files at once: one more than the cores, since most of a file's time is waiting (at one per
# core, 40 % of the CPU stays idle here); TEST_JOBS=N sets it.
TEST_JOBS ?= $(shell echo $$(($(NPROC) + 1)))
test:
	scripts/install-deps
	@$(MAKE) --no-print-directory -j$(NPROC) asan fuzz-build FUZZ_OPT="-O0 -g1" \
	    FUZZ_BUILD=build/fuzz-quick
	@mkdir -p build
	@nice -n 19 $(MAKE) --no-print-directory -j$(NPROC) all >build/release.log 2>&1 & b=$$!; \
	    tests/run -j $(TEST_JOBS) build/asan; t=$$?; \
	    if ! wait $$b; then tail -n 30 build/release.log; echo "make test: the release build failed (build/release.log)"; exit 1; fi; \
	    exit $$t

check:
	@$(MAKE) --no-print-directory -j$(NPROC) asan
	tests/run --fast build/asan

demo:
	scripts/install-deps
	@$(MAKE) --no-print-directory all
	bin/brink suite quick

demo-untuned:
	scripts/install-deps
	@$(MAKE) --no-print-directory all
	bin/brink suite quick --stack-profile untuned

bench: all
	bench/engine-vs-wrk

.PHONY: tuning-table
tuning-table: all
	bench/tuning-table

format:
	clang-format -i $(wildcard src/*.c src/*/*.c src/*/*.h service/*.c service/*.h tests/*/*.c tests/*/*.h)

check-format:
	@clang-format --dry-run -Werror $(wildcard src/*.c src/*/*.c src/*/*.h service/*.c service/*.h tests/*/*.c tests/*/*.h)

# ---- fuzzing (tests/fuzz/, docs/fuzzing.md) ------------------------------------------------------
# libFuzzer harnesses, built by clang with ASan+UBSan into build/fuzz/ (gcc's sanitizer objects
# cannot be linked with libFuzzer, so the fuzz build compiles its sources itself). Only what the
# harnesses reach is compiled (FUZZ_LIB_SRC, archived: each harness links the objects it needs).
# A file whose parsing code is static is compiled through a tests/fuzz/reach_*.c that #includes it
# whole and adds the entry points (FUZZ_REACH: it takes that file's place); tests/fuzz/seams.c
# stands in for the two embedded-stack functions the dependency hooks call when they run a fault.
# The fault proxy's object goes in with weak symbols: the loaders use its proxy_name_ok, while
# fuzz_proxy_api.c replaces its proxies (which listen on sockets) with a table of its own.
# `make fuzz` runs every harness for FUZZ_SECONDS on a scratch copy of its corpus (tests/fuzz/run).
# The short form in make test (tests/integration/fuzz.sh) builds with FUZZ_OPT=-O0 into
# build/fuzz-quick: a third of the compile time, for runs of a few seconds.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_OPT     ?= -O1
FUZZ_BUILD   ?= build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := $(CSTD) $(WARN) -g $(FUZZ_OPT) -fno-omit-frame-pointer $(FUZZ_SAN) $(INC) -MMD -MP
FUZZ_LIB_SRC := $(addprefix src/core/,b64.c cli.c clock.c err.c fmt.c hdr.c hdrlog.c jpath.c \
                  jscan.c json.c parse.c rng.c runinfo.c secret.c yml.c) \
                $(addprefix src/http/,sign.c status_set.c tmpl.c transport.c url.c) \
                $(addprefix src/load/,delivery.c lifecycle.c mix.c scenario.c scenario_report.c \
                  sched.c segment.c) \
                $(addprefix src/config/,config.c deps_yaml.c race_yaml.c scenario_yaml.c) \
                src/probe/probe.c src/probe/probe_extract.c src/stack/deps.c src/stack/proc.c \
                src/stack/ready.c src/fault/toxic.c \
                $(addprefix src/verdict/,capacity.c custom_th.c threshold.c) \
                $(addprefix src/report/,compare.c html.c junit.c merge.c report_cmd.c svg.c xml.c) \
                $(addprefix service/,db.c log.c metrics.c queue.c redis.c reply.c schema.c \
                  webhook.c) \
                tests/fuzz/common.c tests/fuzz/seams.c
FUZZ_REACH   := engine client api dispatchd accept
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/%.o) \
                $(FUZZ_REACH:%=$(FUZZ_BUILD)/tests/fuzz/reach_%.o) $(FUZZ_BUILD)/proxy_weak.o
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "make fuzz: $(FUZZ_CC) not found;" \
	    "scripts/install-deps installs Debian's clang" >&2; exit 2; }
	@$(MAKE) --no-print-directory -j$(NPROC) $(FUZZ_BIN)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZ_BUILD)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/proxy_weak.o: $(FUZZ_BUILD)/src/fault/proxy.o Makefile
	objcopy $$(nm --defined-only -g $< | awk '{print "-W", $$3}') $< $@

# (the Makefile too: an object added to the list is built even when the archive is newer than
# its source, which .SECONDARY would otherwise allow)
$(FUZZ_BUILD)/libfuzz.a: $(FUZZ_LIB_OBJ) Makefile
	@rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJ)

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/libfuzz.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
