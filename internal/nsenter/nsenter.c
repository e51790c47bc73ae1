// The pre-Go namespace joiner. See nsenter.go for why it exists.
//
// Input (environment, removed before Go starts):
//   _UNHA_NSENTER   "fd:flag,fd:flag,..."  setns(fd, flag) in this order
//                   (the runtime puts a user namespace first)
//   _UNHA_NSUNSHARE decimal CLONE_NEW* mask to create after joining
//   _UNHA_SYNCFD    the sync socket (SOCK_SEQPACKET) to the runtime
//   _UNHA_PLACE     if set: wait for one packet from the runtime first; it
//                   finishes the container's cgroups meanwhile (and may
//                   write our pid to cgroup.procs); the fds it carries
//                   (SCM_RIGHTS) are cgroup v1 "tasks" files, opened by the
//                   runtime, to which we write "0"
// Messages sent on the sync socket, one JSON object per packet:
//   {"type":"idmap","pid":N}  after unshare(CLONE_NEWUSER): the runtime
//                             writes uid_map/gid_map and answers any packet
//   {"type":"pid","pid":N}    the pid of the forked child (host view), sent
//                             by the intermediate process before it exits
//   {"type":"error","error":"..."}  then exit(1)
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int syncfd = -1;

static void sendmsg_str(const char *s)
{
	if (syncfd >= 0)
		(void)send(syncfd, s, strlen(s), MSG_NOSIGNAL);
}

static void fail(const char *fmt, ...)
{
	char msg[512], out[700];
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	// The message holds only our own format text and strerror: no quotes or
	// backslashes to escape.
	snprintf(out, sizeof(out), "{\"type\":\"error\",\"error\":\"nsenter: %s: %s\"}", msg, strerror(saved));
	sendmsg_str(out);
	_exit(1);
}

static const char *nsname(long flag)
{
	switch (flag) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWNS: return "mnt";
	case CLONE_NEWNET: return "net";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	}
	return "unknown";
}

// enter_cgroups waits for the runtime's packet and writes "0" to each
// "tasks" file it carries: that moves the calling thread, which is the
// whole process while we are single-threaded, and it is the one migration
// the kernel makes without taking cgroup_threadgroup_rwsem for writing,
// whose writer first waits for an RCU grace period (1-8 ms here; writing
// our pid to cgroup.procs would cost that).
static void enter_cgroups(void)
{
	char buf[64];
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int) * 32)];
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.space, .msg_controllen = sizeof(u.space),
	};
	if (recvmsg(syncfd, &msg, MSG_CMSG_CLOEXEC) <= 0)
		fail("waiting for cgroup placement");
	if (msg.msg_flags & MSG_CTRUNC) {
		errno = EMSGSIZE;
		fail("cgroup placement: too many files");
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int fds[32];
		memcpy(fds, CMSG_DATA(c), (size_t)n * sizeof(int));
		for (int i = 0; i < n; i++) {
			if (write(fds[i], "0", 1) != 1)
				fail("enter cgroup (tasks fd %d)", fds[i]);
			close(fds[i]);
		}
	}
}

// The RLIMIT_NOFILE this process started with, before the Go runtime
// raises its own soft limit (syscall package init); init puts it back
// before execve when the config sets no RLIMIT_NOFILE, as syscall.Exec
// would (see nsenter.StartNofile).
struct rlimit unha_start_nofile;
int unha_start_nofile_ok;

void unha_nsenter(void)
{
	unha_start_nofile_ok = getrlimit(RLIMIT_NOFILE, &unha_start_nofile) == 0;
	const char *sfd = getenv("_UNHA_SYNCFD");
	syncfd = sfd ? (int)strtol(sfd, NULL, 10) : -1;
	if (getenv("_UNHA_PLACE") != NULL) {
		// Placed before the Go runtime starts: every thread it makes is
		// born in the container's cgroups.
		enter_cgroups();
		unsetenv("_UNHA_PLACE");
	}
	const char *join = getenv("_UNHA_NSENTER");
	if (join == NULL)
		return;
	const char *us = getenv("_UNHA_NSUNSHARE");
	long unshare_flags = us ? strtol(us, NULL, 10) : 0;
	int fork_after = 0;

	// Join, in the order the runtime chose (user first).
	char *list = strdup(join), *save = NULL;
	if (list == NULL)
		fail("strdup");
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		// "FD:FLAG", both decimal (strtol, not sscanf: sscanf would link
		// musl's whole scanf and float parser, ~10 KB, for this).
		char *end;
		long fdl = strtol(tok, &end, 10), flag = 0;
		int ok = end != tok && *end == ':';
		if (ok) {
			char *num = end + 1;
			flag = strtol(num, &end, 10);
			ok = end != num && *end == '\0' && fdl >= 0 && fdl <= INT_MAX;
		}
		if (!ok) {
			errno = EINVAL;
			fail("bad join entry %.64s", tok);
		}
		int fd = (int)fdl;
		if (setns(fd, (int)flag) < 0)
			fail("setns %s", nsname(flag));
		close(fd);
		if (flag == CLONE_NEWPID || flag == CLONE_NEWTIME)
			fork_after = 1;
		if (flag == CLONE_NEWUSER) {
			// Joining a user namespace leaves us with uid/gid overflow
			// ids until we pick ids that are mapped there.
			if (setresgid(0, 0, 0) < 0)
				fail("setresgid 0 in joined user namespace");
			if (setresuid(0, 0, 0) < 0)
				fail("setresuid 0 in joined user namespace");
		}
	}
	free(list);

	if (unshare_flags & CLONE_NEWUSER) {
		char msg[64];
		if (unshare(CLONE_NEWUSER) < 0)
			fail("unshare user");
		// The runtime writes our id maps from outside; we wait for its
		// answer. Without a map, setresuid below would fail with EINVAL.
		snprintf(msg, sizeof(msg), "{\"type\":\"idmap\",\"pid\":%d}", getpid());
		sendmsg_str(msg);
		char buf[64];
		if (recv(syncfd, buf, sizeof(buf), 0) <= 0)
			fail("waiting for id maps");
		if (setresgid(0, 0, 0) < 0)
			fail("setresgid 0 in new user namespace");
		if (setresuid(0, 0, 0) < 0)
			fail("setresuid 0 in new user namespace");
	}
	long rest = unshare_flags & ~(long)(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWTIME | CLONE_NEWCGROUP);
	if (rest && unshare((int)rest) < 0)
		fail("unshare %#lx", rest);
	if (unshare_flags & CLONE_NEWPID) {
		if (unshare(CLONE_NEWPID) < 0)
			fail("unshare pid");
		fork_after = 1;
	}

	unsetenv("_UNHA_NSENTER");
	unsetenv("_UNHA_NSUNSHARE");
	if (!fork_after)
		return;

	pid_t child = fork();
	if (child < 0)
		fail("fork into pid namespace");
	if (child > 0) {
		char msg[64];
		snprintf(msg, sizeof(msg), "{\"type\":\"pid\",\"pid\":%d}", child);
		sendmsg_str(msg);
		_exit(0);
	}
	// The child goes on to start Go. Its parent, the intermediate, is gone
	// at once, so init learns of a dead runtime from EOF on the sync socket.
}
