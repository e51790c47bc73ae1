//go:build cgo && unhacgo

package process

// With -tags unhacgo the test binary links the cgo runtime, so the syscall
// package's credential calls take their libc (setxid broadcast) path instead
// of AllThreadsSyscall, which refuses to run once cgo is linked. TestSetUser
// then checks that path gives every thread the new credentials too.
import _ "runtime/cgo"
