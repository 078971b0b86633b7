# vidbench build. `make` builds the library, the CLI and the tests into build/;
# `make test` runs the whole suite; `make SAN=1 test` does the same in build-san/ with
# AddressSanitizer + UndefinedBehaviorSanitizer; `make fuzz` builds libFuzzer targets (clang).
SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
OPTFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDSAN := -fsanitize=address,undefined
else
BUILD ?= build
OPTFLAGS := -O2 -g
LDSAN :=
endif

CC ?= cc
PKGS := libavformat libavcodec libavutil libswscale libavfilter libcurl libarchive sqlite3 libcjson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS)) -ldnnl -lcrypto -lm -lpthread
WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Werror=implicit-function-declaration -Werror=incompatible-pointer-types
CFLAGS_COMMON := -std=gnu11 $(WARN) $(OPTFLAGS) -fPIC -pthread -MMD -MP
LIB_CFLAGS := $(CFLAGS_COMMON) -Iinclude -Isrc $(PKG_CFLAGS)
CLI_CFLAGS := $(CFLAGS_COMMON) -Iinclude
TEST_CFLAGS := $(CFLAGS_COMMON) -Iinclude -Isrc -Itests/unit $(PKG_CFLAGS) $(shell pkg-config --cflags cmocka)

LIB_SRC := $(shell find src -name '*.c' | sort)
CLI_SRC := $(sort $(wildcard cli/*.c bench/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
TEST_SUPPORT := $(filter-out $(TEST_SRC),$(wildcard tests/unit/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

LIBRARY := $(BUILD)/libvidbench.a
CLI := $(BUILD)/vidbench

.PHONY: all test clean fuzz
.SECONDARY:
all: $(LIBRARY) $(CLI) $(TEST_BIN)

$(LIBRARY): $(LIB_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	@ar rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIBRARY)
	@echo '  LINK    $@'
	@$(CC) $(OPTFLAGS) $(LDSAN) -o $@ $(CLI_OBJ) $(LIBRARY) $(PKG_LIBS)

$(BUILD)/obj/src/%.o: src/%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	@$(CC) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/obj/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	@$(CC) $(CLI_CFLAGS) -c $< -o $@

$(BUILD)/obj/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	@$(CC) $(CLI_CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	@echo '  CC      $<'
	@$(CC) $(TEST_CFLAGS) -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_SUPPORT_OBJ) $(LIBRARY)
	@mkdir -p $(@D)
	@echo '  LINK    $@'
	@$(CC) $(OPTFLAGS) $(LDSAN) -o $@ $< $(TEST_SUPPORT_OBJ) $(LIBRARY) $(PKG_LIBS) $(shell pkg-config --libs cmocka)

# The README's test command. tests/run.sh runs every unit test, CLI script and reference
# comparison and ends with the line "N passed, N failed, N skipped"; a skip not listed in
# tests/skip-allow.txt fails it.
test: all
	BUILD=$(BUILD) tests/run.sh

# libFuzzer targets: the library rebuilt with clang, -fsanitize=fuzzer,address,undefined.
FUZZ_BUILD := build-fuzz
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -std=gnu11 -pthread -Iinclude -Isrc $(PKG_CFLAGS) -MMD -MP
fuzz: $(FUZZ_BIN)
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -c $< -o $@
$(FUZZ_BUILD)/%: fuzz/%.c $(FUZZ_LIB_OBJ)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJ) -o $@ $(PKG_LIBS)

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:$(BUILD)/tests/%=$(BUILD)/obj/tests/unit/%.d)
# header changes rebuild the fuzz objects too (a stale struct layout is a false report)
-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:%=%.d)

# The reference I3D backend is plain C written for auto-vectorization (inner loops over output
# channels, cloned for AVX-512/AVX2); -O2's very-cheap cost model would leave them scalar.
$(BUILD)/obj/src/model/i3d/reference.o: LIB_CFLAGS += -O3
