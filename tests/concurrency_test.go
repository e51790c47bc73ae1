package tests

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/unha/unha/tests/harness"
)

func TestConcurrentCreate(t *testing.T) {
	e := newEnv(t)
	const n = 5
	bundles := make([]*harness.Bundle, n)
	for i := range bundles {
		bundles[i] = e.NewBundle("/probe", "json")
		bundles[i].Spec.Hostname = fmt.Sprintf("c%d", i)
	}
	cs := make([]*harness.Container, n)
	rs := make([]harness.Result, n)
	var wg sync.WaitGroup
	for i := range bundles {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cs[i], rs[i] = e.TryCreate(bundles[i], harness.CreateOpts{})
		}(i)
	}
	wg.Wait()
	for i, r := range rs {
		if !r.OK() {
			t.Fatalf("create %d: %s", i, r)
		}
	}
	for _, c := range cs {
		c.Start()
	}
	for i, c := range cs {
		c.WaitStatus("stopped")
		rep, err := harness.ParseReport(c.Stdout())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Hostname != fmt.Sprintf("c%d", i) || rep.Pid != 1 {
			t.Errorf("container %d saw hostname %q pid %d", i, rep.Hostname, rep.Pid)
		}
		c.Delete(false)
	}
	e.AssertClean()
}

func TestConcurrentDelete(t *testing.T) {
	e := newEnv(t)
	for _, force := range []bool{false, true} {
		args := "/probe exit 0"
		if force {
			args = "/probe wait-signal"
		}
		c := e.Create(e.NewBundle(strings.Fields(args)...))
		c.Start()
		if force {
			c.WaitOutput("ready")
		} else {
			c.WaitStatus("stopped")
		}
		del := []string{"delete", c.ID}
		if force {
			del = []string{"delete", "--force", c.ID}
		}
		var rs [2]harness.Result
		var wg sync.WaitGroup
		for i := range rs {
			wg.Add(1)
			go func(i int) { defer wg.Done(); rs[i] = e.Run(del...) }(i)
		}
		wg.Wait()
		ok := 0
		for _, r := range rs {
			switch {
			case r.OK():
				ok++
			case !strings.Contains(r.Stderr, "does not exist"):
				t.Errorf("concurrent %v failed oddly: %s", del, r)
			}
		}
		if ok == 0 {
			t.Errorf("neither concurrent %v succeeded: %s\n%s", del, rs[0], rs[1])
		}
		if r := e.Run("state", c.ID); r.OK() {
			t.Errorf("container survived concurrent deletes: %s", r)
		}
		e.AssertClean()
	}
}
