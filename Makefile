# sluice: build, test, fuzz, bench.
#
#   make                  build ./build/sluice and ./build/sluice-broker (a mock Kafka)
#   make test             run the whole suite (unit, fixtures, live MariaDB)
#   make test T=NAME      run one test: tests/test_NAME.c or tests/NAME.sh
#   make SANITIZE=1 test  the same under AddressSanitizer + UBSan (build-asan/)
#   make check            test, then SANITIZE=1 test, then a short fuzz run:
#                         what CI runs
#   make fuzz             build the libFuzzer targets (clang)
#   make bench            decode, live-capture, snapshot, merger benchmarks (docs/BENCHMARKS.md)
#   make demo             the README's local demo
#   make format / lint    clang-format; forbidden-function check
#
# Warnings are errors when WERROR=1 or CI=true.

CC      ?= cc
PREFIX  ?= /usr/local

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
  BUILD   ?= build-asan
  SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
  OPT      = -O1
else
  BUILD   ?= build
  SANFLAGS =
  # -O3: 5% faster decoding than -O2 (make bench), the hot loops being
  # small and many.
  OPT      = -O3
endif

ifeq ($(CI),true)
  WERROR ?= 1
endif
ifeq ($(WERROR),1)
  WFLAGS_ERR = -Werror
endif

WFLAGS  = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wpointer-arith -Wvla -Wformat=2 -Wno-format-nonliteral \
          $(WFLAGS_ERR)
CPPFLAGS += -D_GNU_SOURCE -I. -Ibinlog -Ischema -Icdc -Isinks -I/usr/include/mariadb
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -pipe $(WFLAGS) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS  += -lmariadb -lrdkafka -lyaml -lpcre2-8 -ljansson -lzstd -lz -lm

LIB_SRC  = $(wildcard binlog/*.c schema/*.c sinks/*.c) \
           $(filter-out cdc/sluice.c cdc/sluice_broker.c,$(wildcard cdc/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
HDRS     = $(wildcard binlog/*.h schema/*.h sinks/*.h cdc/*.h tests/*.h)

.PHONY: all test check fuzz fuzz-run bench demo format lint clean

all: $(BUILD)/sluice $(BUILD)/sluice-broker

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libsluice.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/sluice: $(BUILD)/cdc/sluice.o $(BUILD)/libsluice.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The in-memory, non-durable mock Kafka for trying sluice out and for tests;
# librdkafka's mock cluster is all it needs.
$(BUILD)/sluice-broker: $(BUILD)/cdc/sluice_broker.o
	$(CC) $(LDFLAGS) -o $@ $^ -lrdkafka

# Kafka input for the merger's tests and benchmarks: a topic shuffled, or
# generated records shaped as sluice's (tests/tools/kafka_shuffle.c).
$(BUILD)/kafka-shuffle: tests/tools/kafka_shuffle.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDFLAGS) -lrdkafka

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(BUILD)/libsluice.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libsluice.a \
	    $(LDFLAGS) -lcmocka $(LDLIBS)

# The suite: every tests/test_*.c binary, then every tests/*.sh script.
# T=NAME narrows it to tests/test_NAME.c or tests/NAME.sh.
test: $(BUILD)/sluice $(BUILD)/sluice-broker $(BUILD)/kafka-shuffle $(TEST_BIN)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/run.sh $(T)

# The builds run JOBS compilers at once (the tests themselves one at a
# time: the live ones are timing-sensitive).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check:
	$(MAKE) -j$(JOBS) test
	$(MAKE) -j$(JOBS) SANITIZE=1 test
	$(MAKE) lint
	$(MAKE) -j$(JOBS) fuzz
	$(MAKE) fuzz-run

# libFuzzer targets need clang; they always build with ASan + UBSan.
# The library is compiled once with coverage instrumentation (fuzzer-no-link)
# and linked into each target: compiling it again per target took minutes.
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_OBJ = $(LIB_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_BASE = -O1 -g -std=c11 -D_GNU_SOURCE -I. -Ibinlog -Ischema -Icdc -Isinks \
            -I/usr/include/mariadb -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = $(FUZZ_BASE) -fsanitize=fuzzer,address,undefined
fuzz: $(FUZZ_BIN)

build-fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_BASE) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build-fuzz/libsluice.a: $(FUZZ_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

build-fuzz/%: tests/fuzz/%.c build-fuzz/libsluice.a $(HDRS)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< build-fuzz/libsluice.a $(LDLIBS)

# A short run of every fuzz target (FUZZ_SECONDS each), seeded from the
# shared fixtures when they are present.
FUZZ_SECONDS ?= 20
fuzz-run: fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

bench: $(BUILD)/sluice $(BUILD)/sluice-broker $(BUILD)/kafka-shuffle
	@BUILD=$(BUILD) tests/bench/run.sh
	@BUILD=$(BUILD) tests/bench/live.sh
	@BUILD=$(BUILD) tests/bench/snapshot.sh
	@BUILD=$(BUILD) tests/bench/merge.sh

demo: $(BUILD)/sluice
	@BUILD=$(BUILD) tests/demo.sh

format:
	clang-format -i $(wildcard binlog/*.[ch] schema/*.[ch] cdc/*.[ch] \
	    sinks/*.[ch] tests/*.[ch] tests/fuzz/*.c tests/bench/*.c)

# Functions the project does not use (see docs/ARCHITECTURE.md).
lint:
	@! grep -nE '\b(sprintf|vsprintf|strcpy|strncpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(' \
	    binlog/*.[ch] schema/*.[ch] cdc/*.[ch] sinks/*.[ch] tests/*.[ch] \
	    tests/fuzz/*.c tests/bench/*.c 2>/dev/null \
	    || { echo "lint: forbidden function (above)"; exit 1; }

clean:
	rm -rf build build-asan build-fuzz
