// The pre-Go namespace joiner. See nsenter.go for why it exists.
//
// Input (environment, removed before Go starts):
//   _UNHA_NSENTER   "fd:flag,fd:flag,..."  setns(fd, flag) in this order
//                   (the runtime puts a user namespace first)
//   _UNHA_NSUNSHARE decimal CLONE_NEW* mask to create after joining
//   _UNHA_SYNCFD    the sync socket (SOCK_SEQPACKET) to the runtime
//   _UNHA_PLACE     if set: wait for one packet from the runtime first; it
//                   moves us into the container's cgroups meanwhile
// Messages sent on the sync socket, one JSON object per packet:
//   {"type":"idmap","pid":N}  after unshare(CLONE_NEWUSER): the runtime
//                             writes uid_map/gid_map and answers any packet
//   {"type":"pid","pid":N}    the pid of the forked child (host view), sent
//                             by the intermediate process before it exits
//   {"type":"error","error":"..."}  then exit(1)
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void unha_nsenter(void)
{
	const char *sfd = getenv("_UNHA_SYNCFD");
	syncfd = sfd ? (int)strtol(sfd, NULL, 10) : -1;
	if (getenv("_UNHA_PLACE") != NULL) {
		// cgroup v1 moves a process under cgroup_threadgroup_rwsem, whose
		// writer waits for every thread that is being created: done
		// now, while we are one thread asleep, it is cheap; done while
		// the Go runtime starts its threads, it took ~20 ms here. And
		// every thread Go starts is then born in the right cgroups.
		char buf[64];
		if (recv(syncfd, buf, sizeof(buf), 0) <= 0)
			fail("waiting for cgroup placement");
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
		int fd;
		long flag;
		if (sscanf(tok, "%d:%ld", &fd, &flag) != 2) {
			errno = EINVAL;
			fail("bad join entry %.64s", tok);
		}
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
