# unha: `make run` builds and runs a container from the built-in host image;
# `make test` installs what the tests need and runs all of them (as root).
SHELL := /bin/bash
GO ?= go
# Stamp the commit into the binaries when git can read the checkout; a
# fresh clone owned by another user makes git refuse, and go build with it.
BUILDVCS := $(shell git rev-parse HEAD >/dev/null 2>&1 && echo auto || echo false)
GOBUILD := $(GO) build -buildvcs=$(BUILDVCS) -trimpath
# unha-runtime starts twice per container (the CLI, then init): a static
# binary skips the dynamic loader (~1 ms each, measured with bench/) and
# maps less. osusergo/netgo keep the C library's NSS out of it; the runtime
# resolves no host names and reads owners from /etc/passwd. Its only C is
# the nsenter constructor, so it links musl where musl-gcc is installed
# (Debian's musl-tools): glibc's static start-up probes CPU features and
# caches with dozens of cpuid instructions, each a trap to the hypervisor
# in a VM. `unha-runtime --version` takes 3.6 ms of CPU with glibc and 1.8
# ms with musl here (`perf stat -r 100`), which is what a busy machine
# pays; on an idle one the wall time differs by ~0.3 ms.
STATIC := -tags osusergo,netgo -ldflags '-s -w -linkmode external -extldflags=-static'
# Everything but the Go runtime is built without inlining: on this kernel
# every page of the binary is resident in each runtime process (page-cache
# folios are mapped whole), so the binary's size is most of the runtime's
# peak RSS. -l makes the binary ~220 KB smaller (4.24 -> 4.02 MB) and
# `run`'s median peak RSS 0.2 MiB lower than -l on our packages alone (4.7
# vs 4.9 MiB), for 1% of time in interleaved runs (14.7 vs 14.5 ms, bench
# -n 120): the runtime is a sequence of syscalls. The Go
# runtime itself (allocation, scheduling) stays inlined: the later pattern
# wins.
NOINLINE := -gcflags=all=-l -gcflags=runtime=
# Recursive (=): looked up when the recipe runs, after deps installed it.
RUNTIME_CC = $(shell command -v musl-gcc 2>/dev/null)

.PHONY: all build deps run test vet bench conformance conformance-runc clean

all: build

# musl-gcc, for the runtime (see STATIC).
deps:
	@scripts/deps.sh build

build: deps
	CGO_ENABLED=1 $(if $(RUNTIME_CC),CC=$(RUNTIME_CC)) $(GOBUILD) $(STATIC) $(NOINLINE) -o bin/unha-runtime ./cmd/unha-runtime
	CGO_ENABLED=1 $(GOBUILD) -o bin/unha ./cmd/unha

run: build
	./bin/unha run --rm host sh -c 'hostname; ps'

test: build
	@scripts/deps.sh test
	scripts/test.sh

vet:
	$(GO) vet ./...
	cd tools/runtime-tools && $(GO) vet ./driver/...

# Times unha-runtime against runc (and crun where it runs): N=50 by default.
bench: build
	@scripts/deps.sh bench
	bench/run.sh

# The OCI runtime-tools suite alone: make conformance [RUNTIME=/usr/sbin/runc]
RUNTIME ?= $(CURDIR)/bin/unha-runtime
conformance: build
	tools/runtime-tools/run.sh $(RUNTIME)

# Re-records runc's baseline on this machine (tools/runtime-tools/runc-results.txt).
conformance-runc:
	tools/runtime-tools/run.sh /usr/sbin/runc
	cp tools/runtime-tools/out/runc/results.txt tools/runtime-tools/runc-results.txt

clean:
	rm -rf bin tools/runtime-tools/out
