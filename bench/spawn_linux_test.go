package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSpawnRSSIsTheChilds checks what spawn is for: a child's ru_maxrss
// is its own, not the bench's. The test first makes its own resident set
// large; os/exec's vfork carries that into the child (the control), spawn
// must not.
func TestSpawnRSSIsTheChilds(t *testing.T) {
	const big = 64 << 20 // KiB below: 65536
	ballast := make([]byte, big)
	for i := range ballast {
		ballast[i] = 1
	}
	defer func() { _ = ballast[len(ballast)-1] }()

	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	vforked := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	if vforked < big>>10 {
		t.Logf("os/exec child's ru_maxrss %d KiB: this kernel does not carry the parent's", vforked)
	}

	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	ws, rss, d, err := spawn("/bin/true", []string{"true"}, null, null)
	if err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("spawn /bin/true: %v, %v", ws, err)
	}
	if rss <= 0 || rss > 16<<10 {
		t.Errorf("spawned /bin/true's ru_maxrss %d KiB (os/exec's: %d KiB): not the child's own", rss, vforked)
	}
	if d <= 0 || d > 10*time.Second {
		t.Errorf("spawn took %v", d)
	}

	ws, _, _, err = spawn("/bin/false", []string{"false"}, null, null)
	if err != nil || ws.ExitStatus() != 1 {
		t.Errorf("spawn /bin/false: %v, %v", ws, err)
	}
}
