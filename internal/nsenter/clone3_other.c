//go:build !amd64

// unha_clone3_vm is written for amd64 only (clone3_amd64.S); elsewhere
// the runtime falls back to its exec helper when it sees ENOSYS.
#include <errno.h>
#include <stddef.h>

struct unha_clone_args;

long unha_clone3_vm(struct unha_clone_args *args, size_t size, int (*fn)(void *), void *arg)
{
	(void)args;
	(void)size;
	(void)fn;
	(void)arg;
	return -ENOSYS;
}
