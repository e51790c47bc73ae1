package runtime

import "time"

const (
	// waitKillTimeout bounds the wait for a SIGKILLed process to vanish;
	// SIGKILL cannot be blocked, so only a process stuck in the kernel (D
	// state, e.g. frozen) takes longer.
	waitKillTimeout = 10 * time.Second
)
