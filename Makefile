# Konsil build. `make` builds build/konsil; `make run` sets up and starts the demo;
# `make check` runs every test (also under ASan+UBSan); `make bench` runs the benchmarks.
# Sources: every src/<module>/*.c goes into build/libkonsil.a; src/main.c is the command.
#
# The packages' flags are asked of pkg-config once, when make reads this file. On a machine
# where scripts/install-deps.sh has yet to install the packages that is before they exist, so
# every goal that installs first and then compiles (check, run, fuzz-ot, fuzz-long, bench-ot,
# bench-hub) compiles in a second make, started after the installation, which asks anew. A
# recipe that would compile without the flags stops with the reason instead of failing on
# undefined references.

CC       ?= cc
CFLAGS   ?= -O2 -g
PKGS     := libwebsockets libcjson sqlite3 uuid openssl libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CJSON_FLAGS := $(shell pkg-config --cflags --libs libcjson 2>/dev/null)
pkgs_found = $(if $(PKG_LIBS),,$(error pkg-config finds no $(PKGS): `make deps` installs \
  them (`make check` and `make run` do it themselves)))
# Used in recipes only (recursively expanded, so that the check above runs there).
KCFLAGS  = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -MMD -MP $(PKG_CFLAGS)$(pkgs_found)
KLIBS    = $(PKG_LIBS) -lev -lpthread -lm$(pkgs_found)
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC  := $(sort $(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=build/obj/%.o)
ASAN_OBJ := $(LIB_SRC:src/%.c=build/asan/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
ASAN_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
# Pure modules only (no sockets, no SQLite): what the libFuzzer targets link.
PURE_SRC := $(sort $(wildcard src/ot/*.c src/util/*.c src/proto/*.c))

DEPS_STAMP := build/.deps-installed

.PHONY: all deps run check check-pg check-build fuzz-ot fuzz-long bench bench-ot bench-hub bench-pg web \
        clean install uninstall
all: build/konsil

$(DEPS_STAMP): scripts/install-deps.sh package.json package-lock.json
	scripts/install-deps.sh
	@mkdir -p build && touch $@
deps: $(DEPS_STAMP)

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KCFLAGS) -c $< -o $@
build/asan/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(KCFLAGS) -c $< -o $@

build/libkonsil.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^
build/asan/libkonsil.a: $(ASAN_OBJ)
	@rm -f $@ && ar rcs $@ $^

build/konsil: build/obj/main.o build/libkonsil.a
	$(CC) $(CFLAGS) $^ $(KLIBS) -o $@
build/asan/konsil: build/asan/obj/main.o build/asan/libkonsil.a
	$(CC) $(SANFLAGS) $^ $(KLIBS) -o $@

build/tests/%: tests/unit/%.c tests/unit/unit.h build/libkonsil.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KCFLAGS) -Itests/unit $< build/libkonsil.a $(KLIBS) -o $@
build/asan/tests/%: tests/unit/%.c tests/unit/unit.h build/asan/libkonsil.a
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(KCFLAGS) -Itests/unit $< build/asan/libkonsil.a $(KLIBS) -o $@

# libFuzzer targets: clang, fuzzer + ASan + UBSan, compiled from the pure sources only.
build/fuzz/%: tests/fuzz/%.c $(PURE_SRC) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all $< $(PURE_SRC) $(CJSON_FLAGS)$(pkgs_found) -lm -o $@

web: deps
	node web-demo/build.js

# `make install` (PREFIX=/usr/local, DESTDIR for staging): the command, the web app, the
# shipped templates, the REST API's description (OpenAPI), the man page, the systemd unit, its user (sysusers.d) and a
# configuration file, which an existing one is never replaced by. The man page's FILES
# section lists exactly this tree (tests/hub/install.test.js holds it to that).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
  -e 's|@MANDIR@|$(MANDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
  -e 's|@UNITDIR@|$(UNITDIR)|g' -e 's|@SYSUSERSDIR@|$(SYSUSERSDIR)|g'
WEB_SRC := $(shell find web-demo/src web-demo/static web-demo/build.js -type f 2>/dev/null)

# The web app for installing, built when its sources changed (needs node_modules: make deps).
web-demo/dist/app.js: $(WEB_SRC)
	node web-demo/build.js

install: build/konsil web-demo/dist/app.js
	@mkdir -p build/install
	$(SUBST) packaging/konsil.1.in > build/install/konsil.1
	$(SUBST) packaging/konsil.service.in > build/install/konsil.service
	$(SUBST) packaging/konsil.conf.in > build/install/konsil.conf
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/konsil/templates \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/konsil
	install -m 0755 build/konsil $(DESTDIR)$(BINDIR)/konsil
	rm -rf $(DESTDIR)$(DATADIR)/konsil/web
	cd web-demo/dist && find . -type d -exec install -d -m 0755 '$(DESTDIR)$(DATADIR)/konsil/web/{}' ';' \
	  && find . -type f ! -name '*.map' -exec install -m 0644 '{}' '$(DESTDIR)$(DATADIR)/konsil/web/{}' ';'
	install -m 0644 protocol/templates/*.json $(DESTDIR)$(DATADIR)/konsil/templates/
	install -m 0644 protocol/openapi.yaml $(DESTDIR)$(DATADIR)/konsil/openapi.yaml
	install -m 0644 build/install/konsil.1 $(DESTDIR)$(MANDIR)/man1/konsil.1
	install -m 0644 build/install/konsil.service $(DESTDIR)$(UNITDIR)/konsil.service
	install -m 0644 packaging/konsil.sysusers $(DESTDIR)$(SYSUSERSDIR)/konsil.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/konsil/konsil.conf || \
	  install -m 0644 build/install/konsil.conf $(DESTDIR)$(SYSCONFDIR)/konsil/konsil.conf

# Removes what `make install` put in place but the configuration (and never the data).
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/konsil $(DESTDIR)$(MANDIR)/man1/konsil.1 \
	  $(DESTDIR)$(UNITDIR)/konsil.service $(DESTDIR)$(SYSUSERSDIR)/konsil.conf
	rm -rf $(DESTDIR)$(DATADIR)/konsil

run: deps web
	$(MAKE) --no-print-directory build/konsil
	scripts/run-demo.sh

# Every suite prints its own "N passed, N failed"; tests/run.sh adds them up.
check: deps
	$(MAKE) --no-print-directory check-build
	tests/run.sh
# The suites that run on PostgreSQL too, alone, on a throwaway cluster (`make check` runs
# them with everything else).
check-pg: deps
	$(MAKE) --no-print-directory check-build
	KONSIL_SUITES=pg tests/run.sh
# What `make check` builds before it runs the suites (installs nothing).
check-build: build/konsil build/asan/konsil $(UNIT_BIN) $(ASAN_UNIT_BIN) $(FUZZ_BIN)
	@:

# Long runs, not part of `make check`.
FUZZ_CASES ?= 2000000
fuzz-ot: deps
	$(MAKE) --no-print-directory build/konsil
	node tests/ot/fuzz-diff.js --cases $(FUZZ_CASES) --konsil build/konsil
FUZZ_SECONDS ?= 600
fuzz-long: deps
	$(MAKE) --no-print-directory $(FUZZ_BIN)
	@mkdir -p build/fuzz/corpus
	for f in $(FUZZ_BIN); do mkdir -p build/fuzz/corpus/$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 build/fuzz/corpus/$$(basename $$f) tests/fuzz/seeds || exit 1; done

bench: bench-ot bench-hub bench-pg
bench-ot: deps
	$(MAKE) --no-print-directory build/bench/ot_bench
	node bench/ot-bench.js --c build/bench/ot_bench
# Konsil and a ShareDB server under the same load, and Konsil's costs against the length of a
# history (about seven minutes; BENCH_ARGS=--quick for
# about two); writes the "Hub vs ShareDB" section of BENCHMARKS.md.
bench-hub: deps
	$(MAKE) --no-print-directory build/konsil build/bench/loadgen
	bench/run-bench.sh $(BENCH_ARGS)

# The op log on SQLite and on PostgreSQL (a throwaway cluster): the store's group commit, and
# 1 and 3 writers on one database (about a minute; BENCH_ARGS=--quick for less).
bench-pg: deps
	$(MAKE) --no-print-directory build/bench/store_bench build/bench/db_bench
	bench/pg-bench.sh $(BENCH_ARGS)

build/bench/%: bench/%.c build/libkonsil.a
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(KCFLAGS) $< build/libkonsil.a $(KLIBS) -o $@

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(ASAN_OBJ:.o=.d) build/obj/main.d build/asan/obj/main.d
