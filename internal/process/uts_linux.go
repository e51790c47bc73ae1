package process

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// hostNameMax is HOST_NAME_MAX: the kernel's limit for both names.
const hostNameMax = 64

// SetHostname sets the hostname of the calling process's UTS namespace.
func SetHostname(name string) error {
	if len(name) > hostNameMax {
		return fmt.Errorf("hostname: %q is longer than %d bytes", name, hostNameMax)
	}
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("hostname: %w", os.NewSyscallError("sethostname", err))
	}
	return nil
}

// SetDomainname sets the NIS domain name of the calling process's UTS
// namespace.
func SetDomainname(name string) error {
	if len(name) > hostNameMax {
		return fmt.Errorf("domainname: %q is longer than %d bytes", name, hostNameMax)
	}
	if err := unix.Setdomainname([]byte(name)); err != nil {
		return fmt.Errorf("domainname: %w", os.NewSyscallError("setdomainname", err))
	}
	return nil
}
