package app

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/unha/unha/internal/ociexec"
)

// pipes are a container's stdio when it has no terminal. unha does not hand
// its own stdio to the container (as `runc run` in the foreground does
// not): runc's init fchown()s whatever stdio it gets to the container's
// user, so `-u 1000` would give uid 1000 the caller's terminal. Pipes are
// also what a Docker container sees. Output is copied only once `create`
// succeeded: whatever the runtime wrote on the container's stderr before
// that (its error message, already in its log) is dropped instead of
// doubling unha's own message.
type pipes struct {
	inR, inW   *os.File // stdin: nil without -i (the runtime gives /dev/null)
	outR, outW *os.File
	errR, errW *os.File
	copies     sync.WaitGroup
	closeIn    sync.Once
}

func newPipes(interactive bool) (*pipes, error) {
	p := &pipes{}
	var err error
	if p.outR, p.outW, err = os.Pipe(); err != nil {
		return nil, err
	}
	if p.errR, p.errW, err = os.Pipe(); err != nil {
		p.closeAll()
		return nil, err
	}
	if interactive {
		if p.inR, p.inW, err = os.Pipe(); err != nil {
			p.closeAll()
			return nil, err
		}
	}
	return p, nil
}

// containerIO are the ends the runtime passes to the container's init.
func (p *pipes) containerIO() ociexec.IO {
	return ociexec.IO{Stdin: p.inR, Stdout: p.outW, Stderr: p.errW}
}

// closeContainerEnds drops our copies of the container's ends once the
// runtime has passed them on, so that EOF comes when the container closes
// them.
func (p *pipes) closeContainerEnds() {
	for _, f := range []*os.File{p.inR, p.outW, p.errW} {
		if f != nil {
			f.Close()
		}
	}
}

// start copies stdin to the container and its output to ours. A failed
// write (unha's stdout is a closed pipe) closes the read end, so that the
// container gets EPIPE/SIGPIPE like any other writer into a dead pipeline.
func (p *pipes) start(stdin io.Reader, stdout, stderr io.Writer) {
	for _, c := range []struct {
		dst io.Writer
		src *os.File
	}{{stdout, p.outR}, {stderr, p.errR}} {
		p.copies.Add(1)
		go func() {
			defer p.copies.Done()
			io.Copy(c.dst, c.src)
			c.src.Close()
		}()
	}
	if p.inW != nil {
		// Not waited for: a read of a terminal only returns when the user
		// types, and unha exits when the container does.
		go func() {
			io.Copy(p.inW, stdin)
			p.closeStdin()
		}()
	}
}

func (p *pipes) closeStdin() {
	p.closeIn.Do(func() {
		if p.inW != nil {
			p.inW.Close()
		}
	})
}

// finish waits for the container's output to end (EOF once every process
// of the container is gone), at most timeout: a runtime that left a helper
// process holding the pipes must not hang unha.
func (p *pipes) finish(timeout time.Duration) {
	p.closeStdin()
	done := make(chan struct{})
	go func() { p.copies.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		p.outR.Close()
		p.errR.Close()
		<-done
	}
}

// discard is for a failed create: it returns what the runtime wrote on the
// container's stderr (in case its log said nothing) and closes everything.
func (p *pipes) discard() string {
	p.closeContainerEnds()
	p.closeStdin()
	var buf []byte
	// The runtime has exited; only a stray init could hold the write
	// end, so a short deadline instead of EOF.
	if err := p.errR.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err == nil {
		b := make([]byte, 4096)
		for len(buf) < 64*1024 {
			n, err := p.errR.Read(b)
			buf = append(buf, b[:n]...)
			if err != nil {
				break
			}
		}
	}
	p.outR.Close()
	p.errR.Close()
	return string(buf)
}

func (p *pipes) closeAll() {
	for _, f := range []*os.File{p.inR, p.inW, p.outR, p.outW, p.errR, p.errW} {
		if f != nil {
			f.Close()
		}
	}
}
