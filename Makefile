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

CC      ?= gcc
NPROC   := $(shell nproc 2>/dev/null || echo 2)
VARIANT ?= release
BUILD   := build/$(VARIANT)

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CSTD    := -std=c11 -D_GNU_SOURCE
INC     := -Isrc -I/usr/include/postgresql
ifeq ($(VARIANT),asan)
  OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
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
.PHONY: all asan test check demo demo-untuned format clean bench check-format variant-all

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
# goes on at the lowest priority, on the CPU the tests leave idle while they wait on outages.
# Test files at once: one more than the cores, since most of a file's time is waiting (at one per
# core, 40 % of the CPU stays idle here); TEST_JOBS=N sets it.
TEST_JOBS ?= $(shell echo $$(($(NPROC) + 1)))
test:
	scripts/install-deps
	@$(MAKE) --no-print-directory -j$(NPROC) asan
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

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
