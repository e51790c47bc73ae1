package initproc

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/console"
	"github.com/unha/unha/internal/initmsg"
	"github.com/unha/unha/internal/rootfs"
)

// setupConsole allocates the pty from the container's devpts, sends the
// master to the runtime and makes the slave init's stdio and controlling
// terminal (and /dev/console, for create).
func (is *initState) setupConsole(bindConsole bool) error {
	master, slave, err := console.NewPty("/dev/pts/ptmx")
	if err != nil {
		return err
	}
	defer master.Close()
	defer slave.Close()
	if cs := is.proc.ConsoleSize; cs != nil {
		if err := console.SetSize(master, cs.Width, cs.Height); err != nil {
			return err
		}
	}
	if bindConsole {
		if err := rootfs.BindConsole("/", slave); err != nil {
			return err
		}
	}
	if err := is.conn.Send(&initmsg.Msg{Type: initmsg.TypePty}, int(master.Fd())); err != nil {
		return err
	}
	if _, err := unix.Setsid(); err != nil {
		return os.NewSyscallError("setsid", err)
	}
	if err := unix.IoctlSetInt(int(slave.Fd()), unix.TIOCSCTTY, 0); err != nil {
		return os.NewSyscallError("ioctl TIOCSCTTY", err)
	}
	for i := 0; i < 3; i++ {
		if err := unix.Dup3(int(slave.Fd()), i, 0); err != nil {
			return os.NewSyscallError("dup3", err)
		}
	}
	return nil
}
