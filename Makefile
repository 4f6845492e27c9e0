# syncrun build. `make` builds build/syncrun; `make check` runs the whole suite;
# `make SAN=1` builds into build-san/ with AddressSanitizer + UBSan;
# `make TSAN=1` builds into build-tsan/ with clang and ThreadSanitizer;
# `make CC=clang BUILD=build-clang` builds with clang (same warnings, -Werror) beside the gcc build.
CC      ?= cc
PKGS    := libh2o-evloop jansson sqlite3 libssl libcrypto libcurl
WARN    := -Wall -Wextra -Werror -Wshadow -Wvla -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 $(WARN) -Isrc $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lpthread -lm
BUILD   := build

ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# ThreadSanitizer with clang, the fuzzers' compiler too: the tree builds warning-free with both
# gcc and clang. Not combinable with SAN=1.
ifeq ($(TSAN),1)
BUILD   := build-tsan
CC      := clang
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=thread
LDFLAGS += -fsanitize=thread
endif

LIB_SRC := $(wildcard src/util/*.c src/model/*.c src/store/*.c src/http/*.c src/api/*.c src/exec/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit http browser screenshots format format-check clean fuzz fuzz-run lint tidy cppcheck
all: $(BUILD)/syncrun $(UNIT_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# openapi.c embeds openapi.yaml with .incbin: an edit of the document rebuilds it.
$(BUILD)/src/api/openapi.o: openapi.yaml docs/blueconic-openapi.json

# web.c embeds the dashboard's files with .incbin (the same): an edit of one rebuilds it. uPlot comes
# from npm into web/node_modules (scripts/web-deps.sh, which scripts/deps.sh runs; never committed).
WEB_ASSETS := web/index.html web/app.js web/app.css web/node_modules/uplot/dist/uPlot.iife.min.js \
              web/node_modules/uplot/dist/uPlot.min.css
$(BUILD)/src/api/web.o: $(WEB_ASSETS)
web/node_modules/uplot/dist/%:
	@echo "missing $@: the dashboard embeds uPlot from npm; run scripts/web-deps.sh (or scripts/deps.sh) first" >&2
	@exit 1

$(BUILD)/libsyncrun.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/syncrun: $(CLI_OBJ) $(BUILD)/libsyncrun.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsyncrun.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; $$t || fail=1; done; exit $$fail

http: $(BUILD)/syncrun
	SYNCRUN_BIN=$(abspath $(BUILD)/syncrun) /usr/bin/python3 -m pytest -q tests/http

# The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core (npm, in
# tests/browser/node_modules, installed by scripts/web-deps.sh); screenshots go to $(BUILD)/screenshots.
# `make screenshots` writes them to docs/screenshots/ instead, for the README.
browser: $(BUILD)/syncrun
	@test -d tests/browser/node_modules/playwright-core || bash scripts/web-deps.sh browser
	SYNCRUN_BIN=$(abspath $(BUILD)/syncrun) SCREENSHOT_DIR=$(abspath $(BUILD)/screenshots) node tests/browser/dashboard.test.mjs

screenshots: $(BUILD)/syncrun
	SYNCRUN_BIN=$(abspath $(BUILD)/syncrun) SCREENSHOT_DIR=$(CURDIR)/docs/screenshots node tests/browser/dashboard.test.mjs

check: all
	$(MAKE) unit
	$(MAKE) http
	$(MAKE) browser

FORMAT_SRC = $(shell find src tests/unit -name '*.[ch]')
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

# Static analysis of src/ (`make lint` = both; .ci/run's static-analysis stage):
# clang-tidy with the checks and the reasons for every disabled one in .clang-tidy (any finding is
# an error), over $(BUILD)/compile_commands.json made from the same flags as the build; and
# cppcheck (warning, portability, performance) with its jansson/h2o macros in tests/cppcheck.cfg.
# False positives are suppressed at their line, with the reason next to it.
TIDY_FLAGS := -std=c11 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -Isrc $(shell pkg-config --cflags $(PKGS))
$(BUILD)/compile_commands.json: Makefile $(LIB_SRC) $(CLI_SRC)
	@mkdir -p $(dir $@)
	@{ echo '['; sep=' '; for f in $(LIB_SRC) $(CLI_SRC); do \
	    printf '%s{"directory": "%s", "file": "%s", "command": "clang %s -c %s"}\n' "$$sep" "$(CURDIR)" "$$f" \
	        "$(TIDY_FLAGS)" "$$f"; sep=','; done; echo ']'; } > $@

# A finding is a diagnostic located in the project's files. Analyzer paths that end inside a system
# header are left out: the two there are (h2o_linklist_unlink in server.c's list-draining loops)
# come from the analyzer not knowing that unlinking a list's first node moves the anchor's next.
TIDY_FINDING := ^[^ /][^ ]*:[0-9]+:[0-9]+: (warning|error):|^$(CURDIR)/[^ ]*:[0-9]+:[0-9]+: (warning|error):
tidy: $(BUILD)/compile_commands.json
	@rc=0; run-clang-tidy -quiet -j $(or $(JOBS),2) -p $(BUILD) '$(CURDIR)/src/' > $(BUILD)/clang-tidy.raw 2>&1 || rc=$$?; \
	sed 's/\x1b\[[0-9;]*m//g' $(BUILD)/clang-tidy.raw > $(BUILD)/clang-tidy.log; \
	if [ $$rc -ne 0 ] || grep -qE '$(TIDY_FINDING)' $(BUILD)/clang-tidy.log; then \
	    grep -E -A4 '$(TIDY_FINDING)' $(BUILD)/clang-tidy.log; echo "clang-tidy: FAILED (exit $$rc; log: $(BUILD)/clang-tidy.log)"; exit 1; fi; \
	echo "clang-tidy: no findings in $(words $(LIB_SRC) $(CLI_SRC)) files"

cppcheck:
	cppcheck -q --std=c11 --enable=warning,portability,performance --error-exitcode=1 --inline-suppr \
	    --library=tests/cppcheck.cfg --suppress=missingIncludeSystem -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -Isrc \
	    -j $(or $(JOBS),2) src/
	@echo "cppcheck: no findings"

lint: tidy cppcheck

# Side-by-side benchmarks with peers (bench/README.md); `make bench BENCH_ARGS=--quick`.
.PHONY: bench
bench:
	bench/run $(BENCH_ARGS)

# `make fuzz` builds one libFuzzer binary per fuzz/fuzz_<name>.c into build-fuzz/ (clang, ASan +
# UBSan, every finding fatal); `make fuzz-run FUZZ_SECONDS=N` runs each for N seconds over its
# committed corpus fuzz/corpus/<name>/, read-only: new inputs go to a temporary directory, crash
# reproducers to build-fuzz/crash-<name>-*. Any crash, leak, sanitizer report or hang fails it.
# Dictionary: fuzz/<name>.dict, else fuzz/<prefix>.dict for fuzz_<prefix>_* (fuzz/http.dict).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 10
FUZZ_BUILD   := build-fuzz
FUZZ_SAN     := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 $(WARN) -Isrc $(shell pkg-config --cflags $(PKGS)) $(FUZZ_SAN)
FUZZ_SRC     := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/src/api/openapi.o: openapi.yaml docs/blueconic-openapi.json
$(FUZZ_BUILD)/src/api/web.o: $(WEB_ASSETS)

$(FUZZ_BUILD)/libsyncrun.a: $(FUZZ_LIB_OBJ)
	$(AR) rcs $@ $^

# The in-process server of the fuzz_http* targets (fuzz/harness.h) with the demo data it seeds.
# An archive: a target that does not use it links none of it.
FUZZ_HARNESS_OBJ := $(FUZZ_BUILD)/fuzz/harness.o $(FUZZ_BUILD)/src/cli/demo.o

$(FUZZ_BUILD)/fuzz/harness.o: fuzz/harness.c fuzz/harness.h fuzz/fuzz.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ifuzz -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/libfuzzharness.a: $(FUZZ_HARNESS_OBJ)
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h fuzz/harness.h $(FUZZ_BUILD)/libfuzzharness.a $(FUZZ_BUILD)/libsyncrun.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ifuzz -o $@ $< $(FUZZ_BUILD)/libfuzzharness.a $(FUZZ_BUILD)/libsyncrun.a $(LDLIBS)

fuzz: $(FUZZ_BIN)

fuzz-run: $(FUZZ_BIN)
	@fail=0; for t in $(FUZZ_BIN); do \
	    n=$${t#$(FUZZ_BUILD)/fuzz_}; work=$$(mktemp -d "$${TMPDIR:-/tmp}/syncrun-fuzz-$$n.XXXXXX"); \
	    mkdir "$$work/new"; dict=; if [ -f fuzz/$$n.dict ]; then dict=-dict=fuzz/$$n.dict; \
	    elif [ -f fuzz/$${n%%_*}.dict ]; then dict=-dict=fuzz/$${n%%_*}.dict; fi; \
	    echo "== fuzz_$$n: $(FUZZ_SECONDS)s over fuzz/corpus/$$n"; \
	    if $$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 $$dict \
	        -artifact_prefix=$(FUZZ_BUILD)/crash-$$n- "$$work/new" fuzz/corpus/$$n >"$$work/log" 2>&1; then \
	        grep -E '^(INFO: seed corpus|#[0-9]+[[:space:]]+DONE|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb|new_units_added))' "$$work/log"; \
	    else \
	        rc=$$?; tail -n 100 "$$work/log"; echo "fuzz_$$n: FAILED (exit $$rc)"; fail=1; \
	    fi; \
	    rm -rf "$$work"; \
	done; exit $$fail

clean:
	rm -rf build build-san build-tsan build-clang build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_HARNESS_OBJ:.o=.d)
