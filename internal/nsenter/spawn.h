// The exec spawner's interface: see spawn.c and spawn_linux.go.
#ifndef UNHA_SPAWN_H
#define UNHA_SPAWN_H

#include <stdint.h>

#define UNHA_MAX_NS 16
#define UNHA_MAX_CGFD 32
#define UNHA_MAX_RLIMITS 32
#define UNHA_HOME_MAX 4096

// Steps of the setup, to say which one failed (spawn_linux.go words them).
enum unha_step {
	UNHA_OK = 0,
	UNHA_CLONE,          // clone3 of the first child
	UNHA_STACK,          // mmap of the children's stacks
	UNHA_DUMPABLE,
	UNHA_AFFINITY_INITIAL,
	UNHA_CGROUP,         // index: which cgroup file
	UNHA_OOM,
	UNHA_SETNS,          // index: which namespace
	UNHA_USERNS_ROOT,    // setresuid/gid 0 after joining a user namespace
	UNHA_FORK,           // clone of the second child (pid namespace)
	UNHA_RLIMIT,         // index: which rlimit
	UNHA_IOPRIO,
	UNHA_SCHED,
	UNHA_PERSONALITY,
	UNHA_PERSONALITY_KEPT, // the kernel kept another value; index: it
	UNHA_BOUNDING,       // index: the capability
	UNHA_CHDIR,
	UNHA_CWD_OUTSIDE,
	UNHA_SECCOMP,
	UNHA_KEEPCAPS,
	UNHA_SETGROUPS,
	UNHA_SETGROUPS_DENIED,
	UNHA_SETGID,
	UNHA_SETUID,
	UNHA_CAPSET,
	UNHA_AMBIENT_CLEAR,
	UNHA_AMBIENT,        // index: the capability
	UNHA_NNP,
	UNHA_CLOSE_RANGE,
	UNHA_AFFINITY_FINAL,
	UNHA_LOOKUP_STAT,    // args[0] has a slash: stat failed (errno)
	UNHA_LOOKUP_ACCESS,  // not executable (errno; EACCES for a directory)
	UNHA_LOOKUP_PATH,    // not found in $PATH (errno EACCES: found, not executable)
	UNHA_DIED,           // the first child died without a word; index: its wait status
};

struct unha_rlimit {
	int resource;
	uint64_t soft, hard;
};

struct unha_spawn {
	// Namespaces to join, in this order (a user namespace first).
	int ns_fd[UNHA_MAX_NS], ns_flag[UNHA_MAX_NS], nns;
	// Non-zero when a joined pid namespace needs a second child.
	int fork;
	// A cgroup2 directory to clone3 straight into, or -1.
	int cgroup2_fd;
	// cgroup v1 "tasks" files (or a cgroup.procs) to write "0" to.
	int cg_fd[UNHA_MAX_CGFD], ncg;
	// The host's /proc (checked to be procfs) for oom_score_adj, or -1.
	int proc_fd;
	int has_oom, oom;
	int has_ioprio, ioprio;
	int has_sched;
	uint32_t sched_policy, sched_priority;
	int32_t sched_nice;
	uint64_t sched_flags, sched_runtime, sched_deadline, sched_period;
	int has_personality;
	uint32_t personality;
	int has_initial, has_final;
	uint64_t initial[16], final[16]; // cpu_set_t, 1024 cpus
	struct unha_rlimit rl[UNHA_MAX_RLIMITS];
	int nrl;
	const char *cwd;
	const char *path;   // the process's PATH, for a bare args[0]
	char **argv;
	char **envp;        // with a free slot at envc when need_home
	int envc, need_home;
	uint32_t uid, gid, umask;
	uint32_t *groups;
	int ngroups;
	uint64_t bounding, effective, permitted, inheritable, ambient;
	int last_cap;
	void *bpf;          // struct sock_filter[bpf_len], or NULL
	int bpf_len;
	unsigned int seccomp_flags;
	int nnp;
	int keep_fds;       // fds below this survive execve (3 + preserved)
	int dumpable;       // the caller's PR_GET_DUMPABLE, put back after

	// Results.
	int pid;            // the process (host pid), 0 if none was made
	int step;           // enum unha_step of the failure, UNHA_OK if none
	int index;
	int err;            // errno of the failure
	int exec_failed;    // execve itself failed: the process exits 127
	char home[UNHA_HOME_MAX + 8]; // "HOME=..." when need_home
	char lookup[UNHA_HOME_MAX];   // the path that failed the lookup
};

int unha_spawn(struct unha_spawn *s);

#endif
