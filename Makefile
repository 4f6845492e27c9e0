# syncrun build. `make` builds build/syncrun; `make check` runs the whole suite;
# `make SAN=1` builds into build-san/ with AddressSanitizer + UBSan.
CC      ?= cc
PKGS    := libh2o-evloop jansson sqlite3 libcrypto libcurl
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

LIB_SRC := $(wildcard src/util/*.c src/model/*.c src/store/*.c src/http/*.c src/api/*.c src/exec/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check unit http format format-check clean
all: $(BUILD)/syncrun $(UNIT_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# openapi.c embeds openapi.yaml with .incbin: an edit of the document rebuilds it.
$(BUILD)/src/api/openapi.o: openapi.yaml

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

check: all
	$(MAKE) unit
	$(MAKE) http

FORMAT_SRC = $(shell find src tests/unit -name '*.[ch]')
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
