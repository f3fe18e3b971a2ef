# meshcut — build, test, check. `make help` lists the targets.
.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

BUILD    ?= build
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH:= $(shell $(CC) -dumpmachine 2>/dev/null)
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP \
            -Iinclude -Iplugin -I$(BUILD)
LDLIBS   += -lbpf -lelf -lz -lcjson
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 $(WARN) -D__TARGET_ARCH_$(ARCH) \
            -Iinclude -I/usr/include/$(MULTIARCH) -MMD -MP

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/mc_%.skel.h,$(BPF_SRCS))

PLUGIN_SRCS := $(wildcard plugin/*.c)
PLUGIN_OBJS := $(patsubst plugin/%.c,$(BUILD)/plugin/%.o,$(PLUGIN_SRCS))
LIB_OBJS    := $(filter-out $(BUILD)/plugin/main.o,$(PLUGIN_OBJS))

UNIT_SRCS := $(wildcard test/unit/test_*.c)
UNIT_BINS := $(patsubst test/unit/%.c,$(BUILD)/test/%,$(UNIT_SRCS))
TOOL_SRCS := $(filter-out %.bpf.c,$(wildcard test/tools/*.c))
TOOL_BINS := $(patsubst test/tools/%.c,$(BUILD)/test/%,$(TOOL_SRCS))
TOOL_BPF  := $(patsubst test/tools/%.bpf.c,$(BUILD)/test/%.bpf.o,$(wildcard test/tools/*.bpf.c))

# The node binary: linked statically, because the image copies it onto the
# node and the runtime runs it there, whatever libraries the node has.
# Debian ships static libbpf, libelf, zlib and zstd (elfutils links zstd);
# not libcjson, so Debian's source of it is fetched and compiled in.
STATIC_LIBS := -lbpf -lelf -lz -lzstd
CJSON_SRC   ?= $(BUILD)/deps/cjson

.PHONY: FORCE all static deps test test-bins test-unit test-integration vmtest matrix check demo clean help

all: $(BUILD)/meshcut

help:
	@echo "make            build $(BUILD)/meshcut (one binary, BPF embedded)"
	@echo "make static     build $(BUILD)/static/meshcut, the node binary (static)"
	@echo "make deps       install build/test dependencies (Debian, as root)"
	@echo "make test       unit + integration tests (root)"
	@echo "make check      static analysis (cppcheck, clang-tidy)"
	@echo "make vmtest KERNEL=bookworm [TESTS=...]   the tests on a Debian kernel, in qemu"
	@echo "make matrix     every kernel: features and tests (build/matrix/table.md)"
	@echo "make demo       namespace 'cluster' demo (root)"
	@echo "V=1             show commands"

deps:
	$(Q)hack/deps.sh

$(BUILD) $(BUILD)/plugin $(BUILD)/test $(BUILD)/static:
	$(Q)mkdir -p $@

# BPF_OBJ_TAG (test builds only) adds one ELF note that libbpf skips: the
# object, and so its hash, differs while every program and map stays the
# same, which is what a node sees of the next version (upgrade.bats).
$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
ifneq ($(BPF_OBJ_TAG),)
	$(Q)printf '%s' '$(BPF_OBJ_TAG)' > $@.tag
	$(Q)llvm-objcopy --add-section .note.meshcut.tag=$@.tag $@
	$(Q)rm $@.tag
endif

$(BUILD)/mc_%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name mc_$(subst -,_,$*)_bpf > $@

# What a node records of the objects it loaded (node_embedded_hash()):
# computed here once, not by every ADD and DEL (hashing ~320 KiB byte by
# byte was a tenth of their CPU time). Rewritten only when it changes.
$(BUILD)/mc_objhash.h: $(BPF_OBJS)
	$(call msg,GEN,$@)
	$(Q)printf '#define MC_OBJ_HASH 0x%sULL\n' "$$(cat $(sort $^) | sha256sum | cut -c1-16)" > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

# Rewritten only when the version changes, so that -MMD rebuilds just the
# objects that print it, and always when it does.
$(BUILD)/version.h: FORCE | $(BUILD)
	$(Q)printf '#define MC_VERSION "%s"\n' '$(VERSION)' > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

FORCE:

$(BUILD)/plugin/%.o: plugin/%.c $(SKELS) $(BUILD)/mc_objhash.h | $(BUILD)/plugin $(BUILD)/version.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/meshcut: $(PLUGIN_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

static: $(BUILD)/static/meshcut

$(CJSON_SRC)/cJSON.c:
	$(call msg,FETCH,$(CJSON_SRC))
	$(Q)hack/cjson-src.sh $(CJSON_SRC)

$(BUILD)/static/cJSON.o: $(CJSON_SRC)/cJSON.c | $(BUILD)/static
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -c $< -o $@

$(BUILD)/static/meshcut: $(PLUGIN_OBJS) $(BUILD)/static/cJSON.o | $(BUILD)/static
	$(call msg,LD,$@)
	$(Q)$(CC) -static $(LDFLAGS) $^ -o $@ $(STATIC_LIBS)

$(BUILD)/test/%: test/unit/%.c $(LIB_OBJS) | $(BUILD)/test
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) -o $@ $(LDLIBS) -lcmocka

$(BUILD)/test/%.bpf.o: test/tools/%.bpf.c | $(BUILD)/test
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/test/%: test/tools/%.c | $(BUILD)/test
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

# the same plugin with another BPF object: the "next version" for upgrades
$(BUILD)/test/meshcut-next: FORCE | $(BUILD)/test
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/next BPF_OBJ_TAG=next $(BUILD)/next/meshcut
	$(Q)cp $(BUILD)/next/meshcut $@

test-bins: $(UNIT_BINS) $(TOOL_BINS) $(TOOL_BPF) $(BUILD)/test/meshcut-next

test-unit: $(UNIT_BINS)
	$(Q)for t in $(UNIT_BINS); do $$t || exit 1; done

test-integration: $(BUILD)/meshcut $(TOOL_BINS) $(TOOL_BPF)
	$(Q)bats test/integration

# Everything, with one closing count (what hack/test.sh and CI run).
test: all test-bins
	$(Q)hack/test.sh --no-deps

# The suite (or TESTS) on another kernel: Debian's bullseye, bookworm,
# trixie or sid, booted in qemu with this machine's userspace (hack/vm.sh).
KERNEL ?= bookworm
TESTS  ?= test/integration
vmtest: all static test-bins
	$(Q)hack/vm.sh $(KERNEL) -- env MESHCUT=$(CURDIR)/$(BUILD)/static/meshcut bats --tap $(TESTS)

matrix: all static test-bins
	$(Q)hack/matrix.sh

# unknownMacro: cppcheck cannot expand libbpf's LIBBPF_OPTS();
# readdirCalled: readdir_r is deprecated by glibc and the plugin is single-threaded.
check: $(SKELS) $(BUILD)/mc_objhash.h $(BUILD)/version.h
	$(call msg,CPPCHECK,plugin/)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr --std=c11 -Iinclude -Iplugin -I$(BUILD) \
		--library=posix --suppress=unknownMacro --suppress=readdirCalled \
		--suppress=missingIncludeSystem plugin/
	$(call msg,TIDY,plugin/)
	$(Q)clang-tidy --quiet plugin/*.c -- $(filter-out -MMD -MP,$(CFLAGS)) 2>/dev/null
	$(call msg,SHELLCHK,hack/ test/)
	$(Q)shellcheck -x --severity=warning hack/*.sh hack/lib/*.sh .ci/run
	$(Q)shellcheck -s bash --severity=warning test/integration/helpers.bash

demo: all
	$(Q)hack/demo.sh --no-deps

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/plugin/*.d $(BUILD)/test/*.d)
