// Command seccomp times `RUNTIME run --bundle B ID` of /bin/true with Docker's
// default seccomp profile in config.json (specgen.DefaultSeccomp, for Docker's
// default capabilities: what `unha run` gives a container), against the
// same bundle without a profile, for each runtime. Every iteration runs each
// runtime and each config once, in a rotating order, so that machine noise
// lands on all of them alike. It prints the medians, the cost of the profile
// per runtime, and each runtime's ratio to the reference one with the
// profile.
//
// Usage (as root), from the module root:
//
//	go run ./bench/seccomp -runtime unha-runtime=./bin/unha-runtime -runtime runc=runc -n 50
//
// or bench/seccomp.sh, which builds the binaries first.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/spec"
	"github.com/unha/unha/internal/specgen"
)

type runtime struct{ name, path, root string }

type runtimeFlags []runtime

func (f *runtimeFlags) String() string { return fmt.Sprint(*f) }

func (f *runtimeFlags) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok {
		name, path = filepath.Base(v), v
	}
	abs, err := exec.LookPath(path)
	if err != nil {
		return err
	}
	if abs, err = filepath.Abs(abs); err != nil {
		return err
	}
	*f = append(*f, runtime{name: name, path: abs})
	return nil
}

// configs are the two bundles every runtime runs.
var configs = []string{"none", "docker"}

func main() {
	var rts runtimeFlags
	flag.Var(&rts, "runtime", "name=path of a runtime to time (repeatable)")
	n := flag.Int("n", 50, "measured iterations (each: one run per runtime and config)")
	warmup := flag.Int("warmup", 3, "unmeasured iterations first")
	busybox := flag.String("busybox", "/bin/busybox", "static busybox for the rootfs")
	ref := flag.String("ref", "runc", "runtime name the ratios are relative to")
	flag.Parse()
	if err := bench(rts, *n, *warmup, *busybox, *ref); err != nil {
		fmt.Fprintf(os.Stderr, "bench/seccomp: %v\n", err)
		os.Exit(1)
	}
}

func bench(rts []runtime, n, warmup int, busybox, ref string) error {
	if len(rts) == 0 {
		return errors.New("no -runtime given")
	}
	if os.Geteuid() != 0 {
		return errors.New("must run as root")
	}
	work, err := os.MkdirTemp("", "unha-bench-seccomp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	cgName := fmt.Sprintf("unha-bench-seccomp-%d", os.Getpid())
	rulesN, err := makeBundles(work, busybox, cgName)
	if err != nil {
		return err
	}
	for i := range rts {
		rts[i].root = filepath.Join(work, fmt.Sprintf("state-%d", i))
		for _, c := range configs {
			if _, err := rts[i].run(filepath.Join(work, c), fmt.Sprintf("usb-probe-%d-%s", i, c)); err != nil {
				return fmt.Errorf("first run: %w", err)
			}
		}
	}

	// samples[runtime][config]
	samples := make([][][]time.Duration, len(rts))
	for i := range samples {
		samples[i] = make([][]time.Duration, len(configs))
	}
	t0 := time.Now()
	jobs := len(rts) * len(configs)
	for it := -warmup; it < n; it++ {
		for k := range jobs {
			j := (k + it + warmup) % jobs
			ri, ci := j/len(configs), j%len(configs)
			id := fmt.Sprintf("usb%d-%d-%d", os.Getpid(), j, it+warmup)
			d, err := rts[ri].run(filepath.Join(work, configs[ci]), id)
			if err != nil {
				return err
			}
			if it >= 0 {
				samples[ri][ci] = append(samples[ri][ci], d)
			}
		}
	}
	elapsed := time.Since(t0)

	var problems []string
	for _, r := range rts {
		if left, _ := os.ReadDir(r.root); len(left) > 0 {
			problems = append(problems, fmt.Sprintf("%s left %d containers in its state root", r.name, len(left)))
		}
	}
	if left := leftoverCgroups(cgName); len(left) > 0 {
		problems = append(problems, fmt.Sprintf("cgroups left behind: %v", left))
	}
	report(rts, samples, n, rulesN, elapsed, ref)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// makeBundles writes one rootfs (busybox, /bin/true) and two bundles using it:
// work/none without seccomp and work/docker with Docker's default profile.
// Both have Docker's default capabilities, so the only difference is the
// filter. It returns the number of syscall rules of the profile.
func makeBundles(work, busybox, cgroupsPath string) (int, error) {
	rootfs := filepath.Join(work, "rootfs")
	for _, d := range []string{"bin", "dev", "proc", "sys", "etc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return 0, err
		}
	}
	if err := copyFile(busybox, filepath.Join(rootfs, "bin", "busybox")); err != nil {
		return 0, err
	}
	if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", "true")); err != nil {
		return 0, err
	}
	rules := 0
	for _, c := range configs {
		s := spec.Default()
		s.Root = &specs.Root{Path: rootfs, Readonly: true}
		s.Process.Terminal = false
		s.Process.Args = []string{"/bin/true"}
		dc := specgen.DefaultCaps
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: slices.Clone(dc), Effective: slices.Clone(dc), Permitted: slices.Clone(dc)}
		s.Linux.CgroupsPath = cgroupsPath
		if c == "docker" {
			p, err := specgen.DefaultSeccomp(s)
			if err != nil {
				return 0, err
			}
			s.Linux.Seccomp = p
			for _, r := range p.Syscalls {
				rules += len(r.Names)
			}
		}
		dir := filepath.Join(work, c)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return 0, err
		}
		b, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
			return 0, err
		}
	}
	return rules, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// run times one `run --bundle B ID`; the runtime reaps the container and
// deletes it before it exits.
func (r runtime) run(bundle, id string) (time.Duration, error) {
	cmd := exec.Command(r.path, "--root", r.root, "run", "--bundle", bundle, id)
	// A file, not a pipe: os/exec would wait for every holder of a pipe.
	out, err := os.CreateTemp("", "unha-bench-seccomp-out-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	t0 := time.Now()
	err = cmd.Run()
	d := time.Since(t0)
	if err != nil {
		msg, _ := os.ReadFile(out.Name())
		_ = exec.Command(r.path, "--root", r.root, "delete", "--force", id).Run()
		return 0, fmt.Errorf("%s run (%s): %w: %s", r.name, filepath.Base(bundle), err, strings.TrimSpace(string(msg)))
	}
	return d, nil
}

func report(rts []runtime, samples [][][]time.Duration, n, rules int, elapsed time.Duration, ref string) {
	refIdx := slices.IndexFunc(rts, func(r runtime) bool { return r.name == ref })
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Printf("bench/seccomp: `RUNTIME run` of /bin/true, Docker's default caps, with and without Docker's default seccomp profile (%d syscall names);\n", rules)
	fmt.Printf("%d interleaved iterations each, kernel %s, %.0fs; medians\n", n, strings.TrimSpace(string(kernel)), elapsed.Seconds())
	fmt.Printf("%-14s %12s %12s %12s %14s\n", "runtime", "no seccomp", "docker", "profile cost", "docker vs "+ref)
	for i, r := range rts {
		none, docker := median(samples[i][0]), median(samples[i][1])
		ratio := "-"
		if refIdx >= 0 {
			ratio = fmt.Sprintf("%.2fx", float64(docker)/float64(median(samples[refIdx][1])))
		}
		fmt.Printf("%-14s %12s %12s %12s %14s\n", r.name, ms(none), ms(docker), ms(docker-none), ratio)
	}
}

// median is the lower median, a measured value.
func median(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
