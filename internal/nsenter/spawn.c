// The exec spawner: starts a process in a running container's namespaces
// and cgroup straight from the runtime, without executing a helper program.
// See spawn_linux.go for why and for what the Go side prepares.
//
// unha_spawn runs on a Go thread (a cgo call). It blocks every signal on
// that thread and clone3s a first child with CLONE_VM|CLONE_VFORK (and
// CLONE_INTO_CGROUP): the child shares our memory and runs on a stack of
// its own, and this thread sleeps until the child has exec'd or exited, as
// posix_spawn(3) does it. Sharing memory with a running Go program, the
// children:
//   - call no libc function that takes a lock or touches global state (no
//     malloc, no stdio, no setuid(3): musl's would signal the threads of
//     *this* memory, the Go program's), only system calls and string code;
//   - write only into the struct unha_spawn and their own stacks;
//   - reset every signal handler the Go runtime installed before any
//     signal can reach them, and unblock signals only for execve.
// The first child enters the cgroups and the namespaces (a user namespace
// first; CLONE_VM does not stop setns(2), which wants no other thread in the
// thread group and an fs_struct of its own). A joined pid namespace applies
// to children only, so it then clones the process itself (CLONE_PARENT: it
// is our child, not its), waits for it to exec (CLONE_VFORK again), tells
// us its pid and exits.
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Numbers shared by every architecture since 5.3 (the unified table),
// missing from older libc headers.
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#define UNHA_CLONE_INTO_CGROUP 0x200000000ULL
#define UNHA_CLOSE_RANGE_CLOEXEC 4
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

// struct clone_args of linux/sched.h, version 2 (with cgroup).
struct unha_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

// clone3 with fn(arg) run by the child on args->stack (clone3_*.S). It
// returns the child's pid, or -errno; -ENOSYS where it is not written.
long unha_clone3_vm(struct unha_clone_args *args, size_t size, int (*fn)(void *), void *arg);

// Each child's stack. The deepest frame is the /etc/passwd and getcwd
// buffers of the second child, a few pages.
#define STACK_SIZE (128 * 1024)

struct ctx {
	struct unha_spawn *s;
	char *stack; // the second child's, below the first child's
};

static void fail(struct unha_spawn *s, int step, int index, int err)
{
	s->step = step;
	s->index = index;
	s->err = err;
	_exit(1);
}

static int fmt_uint(char *buf, uint64_t v)
{
	char tmp[24];
	int n = 0, i = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		buf[i++] = tmp[--n];
	return i;
}

static int fmt_int(char *buf, int v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + fmt_uint(buf + 1, (uint64_t)(-(int64_t)v));
	}
	return fmt_uint(buf, (uint64_t)v);
}

// reset_signals gives every signal the Go runtime handles its default
// action back; ignored ones stay ignored, as across execve. Until then
// every signal is blocked: a Go handler run here would run the Go
// runtime on a thread it does not know, in memory it shares.
static void reset_signals(void)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} sa, dfl;
	memset(&dfl, 0, sizeof(dfl));
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, NULL, &sa, 8) != 0)
			continue;
		if (sa.handler == (void *)SIG_DFL || sa.handler == (void *)SIG_IGN)
			continue;
		(void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, 8);
	}
}

// passwd_home finds uid's home in the container's /etc/passwd, as the Go
// side of init does (withHome): a regular file only (the container owns
// it: it may be a fifo, O_NONBLOCK keeps the open from hanging), "/" if
// there is none.
static void passwd_home(struct unha_spawn *s)
{
	char buf[8192], uid[24];
	int uidlen = fmt_uint(uid, s->uid);
	const char *home = NULL;
	size_t homelen = 0, len = 0;
	int skipping = 0;
	memcpy(s->home, "HOME=", 5);
	int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		for (int eof = 0; !home && !eof;) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0) {
				eof = 1;
				if (len == 0)
					break;
				buf[len++] = '\n';
			} else {
				len += (size_t)n;
			}
			size_t start = 0;
			for (size_t i = 0; i < len && !home; i++) {
				if (buf[i] != '\n')
					continue;
				char *line = buf + start;
				size_t l = i - start;
				start = i + 1;
				if (skipping) {
					skipping = 0;
					continue;
				}
				if (l > 0 && line[l - 1] == '\r')
					l--;
				// name:password:uid:gid:gecos:home:shell
				size_t f = 0, fs = 0;
				const char *field[7];
				size_t flen[7];
				for (size_t j = 0; j <= l && f < 7; j++) {
					if (j == l || line[j] == ':') {
						field[f] = line + fs;
						flen[f++] = j - fs;
						fs = j + 1;
					}
				}
				if (f >= 6 && flen[2] == (size_t)uidlen && memcmp(field[2], uid, (size_t)uidlen) == 0 && flen[5] > 0) {
					home = field[5];
					homelen = flen[5];
				}
			}
			if (home)
				break;
			if (start == 0 && len == sizeof(buf) - 1) {
				// A line longer than the buffer: drop it.
				len = 0;
				skipping = 1;
				continue;
			}
			memmove(buf, buf + start, len - start);
			len -= start;
		}
		if (home) {
			if (homelen > UNHA_HOME_MAX)
				homelen = UNHA_HOME_MAX;
			memcpy(s->home + 5, home, homelen);
			s->home[5 + homelen] = 0;
		}
	}
	if (fd >= 0)
		close(fd);
	if (!home) {
		s->home[5] = '/';
		s->home[6] = 0;
	}
	s->envp[s->envc] = s->home;
	s->envp[s->envc + 1] = NULL;
}

static int load_seccomp(struct unha_spawn *s)
{
	struct {
		unsigned short len;
		void *filter;
	} prog = { (unsigned short)s->bpf_len, s->bpf };
	return (int)syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, s->seccomp_flags, &prog);
}

// executable is initproc's checkExecutable: exists, not a directory, and
// executable for us (AT_EACCESS; our real and effective ids are equal
// by now, so plain faccessat is the same where faccessat2 is missing).
static int executable(const char *path, int *step)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		*step = UNHA_LOOKUP_STAT;
		return errno;
	}
	*step = UNHA_LOOKUP_ACCESS;
	if (S_ISDIR(st.st_mode))
		return EACCES;
	if (syscall(SYS_faccessat2, AT_FDCWD, path, X_OK, AT_EACCESS) == 0)
		return 0;
	if ((errno == ENOSYS || errno == EPERM) && syscall(SYS_faccessat, AT_FDCWD, path, X_OK) == 0)
		return 0;
	return errno;
}

// lookup resolves argv[0] as initproc's lookPath: with a slash as it is,
// otherwise in the process's own PATH (an empty entry is ".").
static const char *lookup(struct unha_spawn *s, char *buf, size_t size)
{
	const char *name = s->argv[0];
	size_t nlen = strlen(name);
	int step;
	if (strchr(name, '/') != NULL) {
		int e = executable(name, &step);
		if (e != 0) {
			size_t n = nlen < UNHA_HOME_MAX - 1 ? nlen : UNHA_HOME_MAX - 1;
			memcpy(s->lookup, name, n);
			s->lookup[n] = 0;
			fail(s, step, 0, e);
		}
		return name;
	}
	int perm = 0;
	for (const char *p = s->path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		const char *dir = p;
		if (dlen == 0) {
			dir = ".";
			dlen = 1;
		}
		if (dlen + 1 + nlen + 1 <= size) {
			memcpy(buf, dir, dlen);
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, name, nlen + 1);
			int e = executable(buf, &step);
			if (e == 0)
				return buf;
			if (e == EACCES)
				perm = 1;
		}
		if (*end == 0)
			break;
		p = end;
	}
	fail(s, UNHA_LOOKUP_PATH, 0, perm ? EACCES : ENOENT);
	return NULL;
}

// setup_exec is the process: the Go side's initproc finish(), step for
// step, then execve.
static int setup_exec(void *arg)
{
	struct unha_spawn *s = ((struct ctx *)arg)->s;
	// Exact values at once, while we may still raise a hard limit: nothing
	// here maps memory (the reason the Go init sets them last).
	for (int i = 0; i < s->nrl; i++) {
		uint64_t lim[2] = { s->rl[i].soft, s->rl[i].hard };
		if (syscall(SYS_prlimit64, 0, s->rl[i].resource, lim, NULL) != 0)
			fail(s, UNHA_RLIMIT, i, errno);
	}
	if (s->has_ioprio && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, s->ioprio) != 0)
		fail(s, UNHA_IOPRIO, 0, errno);
	if (s->has_sched) {
		struct {
			uint32_t size, policy;
			uint64_t flags;
			int32_t nice;
			uint32_t priority;
			uint64_t runtime, deadline, period;
		} attr = { 48, s->sched_policy, s->sched_flags, s->sched_nice, s->sched_priority,
			   s->sched_runtime, s->sched_deadline, s->sched_period };
		if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0)
			fail(s, UNHA_SCHED, 0, errno);
	}
	if (s->has_personality) {
		if (syscall(SYS_personality, s->personality) < 0)
			fail(s, UNHA_PERSONALITY, 0, errno);
		long got = syscall(SYS_personality, 0xffffffffUL);
		if (got != (long)s->personality)
			fail(s, UNHA_PERSONALITY_KEPT, (int)got, 0);
	}
	if (s->need_home)
		passwd_home(s);
	for (int c = 0; c <= s->last_cap && c < 64; c++) {
		if (!(s->bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
			fail(s, UNHA_BOUNDING, c, errno);
	}
	// CVE-2024-21626: a cwd reaching outside the root (a leaked fd's
	// /proc/self/fd/N) shows in getcwd(2) as "(unreachable)...".
	if (chdir(s->cwd) != 0)
		fail(s, UNHA_CHDIR, 0, errno);
	char wd[4096];
	if (syscall(SYS_getcwd, wd, sizeof(wd)) < 0 || wd[0] != '/')
		fail(s, UNHA_CWD_OUTSIDE, 0, EPERM);
	if (s->bpf != NULL && !s->nnp && load_seccomp(s) != 0)
		fail(s, UNHA_SECCOMP, 0, errno);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		fail(s, UNHA_KEEPCAPS, 0, errno);
	// Raw calls: the libc ones would signal the other threads of this
	// memory, which are the Go program's.
	if (syscall(SYS_setgroups, s->ngroups, s->groups) != 0) {
		int e = errno;
		int denied = 0;
		if (e == EPERM && s->proc_fd >= 0) {
			char buf[16] = { 0 };
			int fd = openat(s->proc_fd, "self/setgroups", O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				denied = read(fd, buf, sizeof(buf) - 1) >= 4 && memcmp(buf, "deny", 4) == 0;
				close(fd);
			}
		}
		if (denied && s->ngroups > 0)
			fail(s, UNHA_SETGROUPS_DENIED, 0, e);
		if (!denied)
			fail(s, UNHA_SETGROUPS, 0, e);
	}
	if (syscall(SYS_setresgid, s->gid, s->gid, s->gid) != 0)
		fail(s, UNHA_SETGID, 0, errno);
	if (syscall(SYS_setresuid, s->uid, s->uid, s->uid) != 0)
		fail(s, UNHA_SETUID, 0, errno);
	struct {
		uint32_t version;
		int pid;
	} hdr = { 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0 };
	struct {
		uint32_t effective, permitted, inheritable;
	} data[2] = {
		{ (uint32_t)s->effective, (uint32_t)s->permitted, (uint32_t)s->inheritable },
		{ (uint32_t)(s->effective >> 32), (uint32_t)(s->permitted >> 32), (uint32_t)(s->inheritable >> 32) },
	};
	if (syscall(SYS_capset, &hdr, data) != 0)
		fail(s, UNHA_CAPSET, 0, errno);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && !(errno == EINVAL && s->ambient == 0))
		fail(s, UNHA_AMBIENT_CLEAR, 0, errno);
	for (int c = 0; c < 64; c++) {
		if ((s->ambient & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
			fail(s, UNHA_AMBIENT, c, errno);
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
		fail(s, UNHA_KEEPCAPS, 0, errno);
	umask(s->umask);
	char pathbuf[4096];
	const char *path = lookup(s, pathbuf, sizeof(pathbuf));
	if (s->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fail(s, UNHA_NNP, 0, errno);
	if (s->bpf != NULL && s->nnp && load_seccomp(s) != 0)
		fail(s, UNHA_SECCOMP, 0, errno);
	// Nothing of the runtime's crosses execve but the stdio and the
	// preserved fds (CVE-2024-21626 leaked a cgroup fd).
	if (syscall(SYS_close_range, s->keep_fds, ~0U, UNHA_CLOSE_RANGE_CLOEXEC) != 0)
		fail(s, UNHA_CLOSE_RANGE, 0, errno);
	if (s->has_final && sched_setaffinity(0, sizeof(s->final), (cpu_set_t *)s->final) != 0)
		fail(s, UNHA_AFFINITY_FINAL, 0, errno);
	uint64_t none = 0;
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
	execve(path, s->argv, s->envp);
	// As the Go init: the process started, and failed at once.
	int e = errno;
	const char *msg = strerror(e);
	s->exec_failed = 1;
	s->err = e;
	(void)!write(2, "unha-runtime: exec ", 19);
	(void)!write(2, path, strlen(path));
	(void)!write(2, ": ", 2);
	(void)!write(2, msg, strlen(msg));
	(void)!write(2, "\n", 1);
	_exit(127);
}

static int first_child(void *arg)
{
	struct ctx *c = arg;
	struct unha_spawn *s = c->s;
	reset_signals();
	// CVE-2019-5736: until execve we run the host's runtime binary, and
	// share the runtime's memory, inside the container's pid namespace;
	// a container process that could open /proc/PID/exe or /proc/PID/mem
	// now could overwrite the binary or the runtime. Not dumpable, only
	// CAP_SYS_PTRACE over our user namespace may (a setuid below would
	// clear it too, but not before the namespaces are joined). The flag
	// belongs to the shared mm: unha_spawn puts it back.
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fail(s, UNHA_DUMPABLE, 0, errno);
	// execCPUAffinity.initial: before the process joins the cgroup (the
	// cgroup2 one is already joined by clone3).
	if (s->has_initial && sched_setaffinity(0, sizeof(s->initial), (cpu_set_t *)s->initial) != 0)
		fail(s, UNHA_AFFINITY_INITIAL, 0, errno);
	// A thread moving itself into a v1 cgroup costs no RCU grace period
	// (see cgroups.OpenTasks); the process below is born there.
	for (int i = 0; i < s->ncg; i++) {
		if (write(s->cg_fd[i], "0", 1) != 1)
			fail(s, UNHA_CGROUP, i, errno);
	}
	if (s->has_oom) {
		// Ours, inherited by the process: "self" resolves to us in the
		// host's /proc. A vfork child's value is its own, not its
		// memory-sharing parent's (fs/proc/base.c, __set_oom_adj).
		char buf[16];
		int n = fmt_int(buf, s->oom);
		int fd = openat(s->proc_fd, "self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			fail(s, UNHA_OOM, 0, errno);
		if (write(fd, buf, (size_t)n) != n)
			fail(s, UNHA_OOM, 1, errno);
		close(fd);
	}
	for (int i = 0; i < s->nns; i++) {
		if (setns(s->ns_fd[i], s->ns_flag[i]) != 0)
			fail(s, UNHA_SETNS, i, errno);
		if (s->ns_flag[i] == CLONE_NEWUSER &&
		    (syscall(SYS_setresgid, 0, 0, 0) != 0 || syscall(SYS_setresuid, 0, 0, 0) != 0))
			fail(s, UNHA_USERNS_ROOT, 0, errno);
	}
	if (!s->fork)
		return setup_exec(arg);
	struct unha_clone_args a;
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_VM | CLONE_VFORK | CLONE_PARENT;
	a.stack = (uint64_t)(uintptr_t)c->stack;
	a.stack_size = STACK_SIZE;
	long pid = unha_clone3_vm(&a, sizeof(a), setup_exec, arg);
	if (pid < 0)
		fail(s, UNHA_FORK, 0, (int)-pid);
	// The process has exec'd, or failed and said why.
	s->pid = (int)pid;
	_exit(0);
}

static int reap(int pid)
{
	int status = 0;
	while (wait4(pid, &status, __WALL, NULL) < 0 && errno == EINTR)
		;
	return status;
}

int unha_spawn(struct unha_spawn *s)
{
	s->pid = 0;
	s->step = UNHA_OK;
	s->exec_failed = 0;
	char *stack = mmap(NULL, 2 * STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		s->step = UNHA_STACK;
		s->err = errno;
		return -1;
	}
	struct ctx c = { s, stack };
	uint64_t all = ~0ULL, old = 0;
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
	s->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);

	struct unha_clone_args a;
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_VM | CLONE_VFORK;
	a.exit_signal = SIGCHLD;
	a.stack = (uint64_t)(uintptr_t)(stack + STACK_SIZE);
	a.stack_size = STACK_SIZE;
	if (s->cgroup2_fd >= 0) {
		a.flags |= UNHA_CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)s->cgroup2_fd;
	}
	int procs = -1;
	long pid = unha_clone3_vm(&a, sizeof(a), first_child, &c);
	if ((pid == -EBUSY || pid == -EOPNOTSUPP || pid == -EACCES) && s->cgroup2_fd >= 0 && s->ncg < UNHA_MAX_CGFD) {
		// clone3 refuses CLONE_INTO_CGROUP for some cgroup2 dirs (no
		// write access, a threaded subtree): the child writes "0" to
		// cgroup.procs instead, at the price of a grace period.
		procs = openat(s->cgroup2_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
		if (procs < 0) {
			s->step = UNHA_CGROUP;
			s->index = s->ncg;
			s->err = errno;
		} else {
			s->cg_fd[s->ncg++] = procs;
			a.flags &= ~UNHA_CLONE_INTO_CGROUP;
			a.cgroup = 0;
			pid = unha_clone3_vm(&a, sizeof(a), first_child, &c);
		}
	}
	if (s->step == UNHA_OK && pid < 0) {
		s->step = UNHA_CLONE;
		s->err = (int)-pid;
	}
	if (pid > 0) {
		if (s->fork) {
			int status = reap((int)pid);
			// Killed (a fault: every signal is blocked, so the kernel
			// forces the default action) before it made the process.
			if (s->step == UNHA_OK && s->pid == 0) {
				s->step = UNHA_DIED;
				s->index = status;
			}
		} else if (s->step == UNHA_OK) {
			s->pid = (int)pid;
		} else {
			reap((int)pid);
		}
		// A process that failed its setup has exited: ours to reap.
		if (s->step != UNHA_OK && s->pid > 0) {
			reap(s->pid);
			s->pid = 0;
		}
	}
	if (procs >= 0)
		close(procs);
	if (s->dumpable > 0)
		(void)prctl(PR_SET_DUMPABLE, s->dumpable, 0, 0, 0);
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	munmap(stack, 2 * STACK_SIZE);
	return s->step == UNHA_OK ? 0 : -1;
}
