package process

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// personalityQuery asks personality(2) for the current value.
const personalityQuery = 0xffffffff

// SetPersonality sets the calling thread's execution domain; execve keeps
// it (minus the flags the kernel clears for set-user-ID programs).
func SetPersonality(p uint32) error {
	if _, _, errno := unix.Syscall(unix.SYS_PERSONALITY, uintptr(p), 0, 0); errno != 0 {
		return fmt.Errorf("linux.personality: personality %#x: %w", p, os.NewSyscallError("personality", errno))
	}
	// personality(2) cannot fail for an unknown domain on every kernel:
	// read it back so that a value the kernel ignored is not reported as set.
	got, err := Personality()
	if err != nil {
		return err
	}
	if got != p {
		return fmt.Errorf("linux.personality: kernel kept %#x instead of %#x", got, p)
	}
	return nil
}

// Personality returns the calling thread's personality.
func Personality() (uint32, error) {
	r, _, errno := unix.Syscall(unix.SYS_PERSONALITY, personalityQuery, 0, 0)
	if errno != 0 {
		return 0, os.NewSyscallError("personality", errno)
	}
	return uint32(r), nil
}
