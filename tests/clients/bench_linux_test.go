package clients

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The benchmarks time a client's whole `run --rm IMAGE true` (podman with conmon; ctr through
// containerd and the runc v2 shim) with the runtime under test and with a reference runtime,
// runc, interleaved: every iteration runs each runtime once, in a rotating order, so that the
// noise of a shared machine lands on both alike. They report each runtime's median and 90th
// percentile in milliseconds and the ratio of the medians (under test / reference); ns/op,
// which would be the sum of both runtimes, is suppressed. Run them as root with
//
//	go test -run '^$' -bench . -benchtime 30x ./tests/clients/
//
// The runtime under test is the suite's (UNHA_TEST_RUNTIME or the one TestMain builds), the
// reference /usr/sbin/runc or UNHA_BENCH_REF.

// refRuntimeEnv names the reference runtime of the benchmarks.
const refRuntimeEnv = "UNHA_BENCH_REF"

// benchRuntime is one runtime a benchmark drives; name labels its metrics.
type benchRuntime struct{ name, path string }

// benchRuntimes is the runtime under test, then the reference.
func benchRuntimes(tb testing.TB) []benchRuntime {
	tb.Helper()
	ref := os.Getenv(refRuntimeEnv)
	if ref == "" {
		ref = "/usr/sbin/runc"
	}
	abs, err := exec.LookPath(ref)
	if err != nil {
		tb.Fatalf("reference runtime (%s): %v", refRuntimeEnv, err)
	}
	under := benchRuntime{filepath.Base(suite.Runtime), suite.Runtime}
	r := benchRuntime{filepath.Base(abs), abs}
	if r.name == under.name {
		r.name = "ref-" + r.name
	}
	return []benchRuntime{under, r}
}

// interleave calls op once per runtime in every iteration of b.Loop, rotating the order, and
// returns each runtime's durations.
func interleave(b *testing.B, rts []benchRuntime, op func(rt benchRuntime, it int) time.Duration) [][]time.Duration {
	samples := make([][]time.Duration, len(rts))
	for it := 0; b.Loop(); it++ {
		for k := range rts {
			i := (k + it) % len(rts)
			samples[i] = append(samples[i], op(rts[i], it))
		}
	}
	return samples
}

// reportRuntimes reports the medians, 90th percentiles and the ratio of the medians as metrics,
// and logs them as a table.
func reportRuntimes(b *testing.B, what string, rts []benchRuntime, samples [][]time.Duration) {
	b.ReportMetric(0, "ns/op")
	var table strings.Builder
	fmt.Fprintf(&table, "%s, %d interleaved iterations each\n%-16s %10s %10s %10s\n", what, len(samples[0]),
		"runtime", "p50", "p90", "vs "+rts[len(rts)-1].name)
	ref := quantileOf(samples[len(samples)-1], 0.5)
	for i, rt := range rts {
		p50, p90 := quantileOf(samples[i], 0.5), quantileOf(samples[i], 0.9)
		b.ReportMetric(msOf(p50), rt.name+"-p50-ms")
		b.ReportMetric(msOf(p90), rt.name+"-p90-ms")
		fmt.Fprintf(&table, "%-16s %8.1fms %8.1fms %9.2fx\n", rt.name, msOf(p50), msOf(p90), float64(p50)/float64(ref))
	}
	b.ReportMetric(float64(quantileOf(samples[0], 0.5))/float64(ref), "ratio-p50")
	b.Log("\n" + table.String())
}

// quantileOf is the q-quantile by the nearest-rank method: always a measured value.
func quantileOf(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(q*float64(len(s)) + 0.999999999)
	return s[min(max(rank, 1), len(s))-1]
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkPodmanRunRm: `podman --runtime RUNTIME run --rm IMAGE true` with a private podman
// configured as newPodman's.
func BenchmarkPodmanRunRm(b *testing.B) {
	e := newBenchEnv(b, "bpodman")
	rts := benchRuntimes(b)
	bin, conmon := e.lookTool("podman"), e.lookTool("conmon")
	root, runroot, tmp := e.path("root"), filepath.Join(e.runDir, "runroot"), e.path("libpod-tmp")
	supportsJSON := []string{"crun", "runc"}
	for _, rt := range rts {
		supportsJSON = append(supportsJSON, filepath.Base(rt.path))
	}
	conf := e.writeFile("containers.conf", fmt.Sprintf(`[containers]
netns = "none"

[network]
network_backend = "netavark"
network_config_dir = %q

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q
image_copy_tmp_dir = %q
conmon_path = [%q]
runtime_supports_json = %s
`, e.path("networks"), e.path("events.log"), tmp, e.tmp, conmon, tomlStrings(supportsJSON)))
	storage := e.writeFile("storage.conf", fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", root, runroot))
	env := e.clientEnv("CONTAINERS_CONF="+conf, "CONTAINERS_STORAGE_CONF="+storage)
	global := []string{"--root", root, "--runroot", runroot, "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", tmp}
	e.keep["libpod_parent"], e.keep["conmon"] = true, true
	podman := func(runtime string, args ...string) (result, time.Duration) {
		return e.run(env, bin, append(append(slices.Clone(global), "--runtime", runtime), args...)...)
	}
	b.Cleanup(func() {
		r, _ := podman(rts[0].path, "ps", "-a", "-q", "--no-trunc")
		if ids := strings.Fields(r.stdout); r.code != 0 || len(ids) > 0 {
			b.Errorf("leftover: podman containers %v (%s)", ids, r)
			podman(rts[0].path, "rm", "-f", "-t", "0", "-a")
		}
	})

	rootfsTar := e.path("busybox-rootfs.tar")
	writeLayer(b, rootfsTar)
	e.must(podman(rts[0].path, "import", rootfsTar, busyboxRef))

	// The same options as the podman tests' runArgs; the cidfile names the --rm container for
	// the leftover checks.
	run := func(rt benchRuntime, cidfile string, cmd ...string) (result, time.Duration) {
		args := []string{"run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
			"--cidfile", cidfile, busyboxRef}
		r, d := e.must(podman(rt.path, append(args, cmd...)...))
		if id, err := os.ReadFile(cidfile); err == nil {
			e.track(strings.TrimSpace(string(id)))
		}
		return r, d
	}
	for _, rt := range rts {
		if r, _ := run(rt, e.path("probe-"+rt.name+".cid"), "cat", "/etc/unha-image"); strings.TrimSpace(r.stdout) != imageMarker {
			b.Fatalf("%s: the image did not run: %s", rt.name, r)
		}
	}
	samples := interleave(b, rts, func(rt benchRuntime, it int) time.Duration {
		_, d := run(rt, e.path(fmt.Sprintf("run-%s-%d.cid", rt.name, it)), "true")
		return d
	})
	reportRuntimes(b, "podman run --rm IMAGE true", rts, samples)
}

// BenchmarkCtrRunRm: `ctr run --rm --runc-binary RUNTIME IMAGE ID true` against a private
// containerd configured as newContainerd's (without the CRI plugin).
func BenchmarkCtrRunRm(b *testing.B) {
	e := newBenchEnv(b, "bctrd")
	rts := benchRuntimes(b)
	ctr := startBenchContainerd(e)
	archive := e.path("busybox-oci.tar")
	entries, err := busyboxEntries(suite.Busybox)
	if err == nil {
		err = ociArchive(archive, busyboxRef, entries, imageConfig{Cmd: []string{"/bin/sh"}})
	}
	if err != nil {
		b.Fatal(err)
	}
	e.must(ctr("images", "import", archive))

	run := func(rt benchRuntime, id string, cmd ...string) (result, time.Duration) {
		e.track(id)
		return e.must(ctr(append([]string{"run", "--rm", "--runc-binary", rt.path, busyboxRef, id}, cmd...)...))
	}
	for i, rt := range rts {
		if r, _ := run(rt, fmt.Sprintf("ubench-%d-probe-%d", os.Getpid(), i), "cat", "/etc/unha-image"); strings.TrimSpace(r.stdout) != imageMarker {
			b.Fatalf("%s: the image did not run: %s", rt.name, r)
		}
	}
	samples := interleave(b, rts, func(rt benchRuntime, it int) time.Duration {
		_, d := run(rt, fmt.Sprintf("ubench-%d-%s-%d", os.Getpid(), rt.name, it), "true")
		return d
	})
	reportRuntimes(b, "ctr run --rm IMAGE ID true", rts, samples)
}

// startBenchContainerd starts a containerd with its own config, root, state and socket under
// the benchmark's directory, stopped (after checking that no task or container is left in the
// namespace) when the benchmark ends. It returns a function running ctr in ctrNamespace.
func startBenchContainerd(e *benchEnv) func(args ...string) (result, time.Duration) {
	tb := e.tb
	bin, ctrBin := e.lookTool("containerd"), e.lookTool("ctr")
	e.lookTool("containerd-shim-runc-v2")
	sock, logPath := e.path("c.sock"), e.path("containerd.log")
	disabled := `"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing", "io.containerd.grpc.v1.cri"`
	conf := e.writeFile("config.toml", fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = [%s]

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, e.path("root"), e.path("state"), disabled, sock, sock+".ttrpc", e.path("opt")))
	env := e.clientEnv()
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", conf)
	cmd.Env, cmd.Dir = env, e.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Start()
	logf.Close()
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	e.keep[ctrNamespace] = true
	ctr := func(args ...string) (result, time.Duration) {
		return e.run(env, ctrBin, append([]string{"--address", sock, "--namespace", ctrNamespace}, args...)...)
	}
	logTail := func() string {
		b, _ := os.ReadFile(logPath)
		return string(b[max(0, len(b)-4000):])
	}
	tb.Cleanup(func() {
		select {
		case <-done:
			tb.Errorf("containerd died during the benchmark: %v\n%s", cmd.ProcessState, logTail())
			return
		default:
		}
		if r, _ := ctr("task", "ls", "-q"); r.code == 0 {
			for _, id := range strings.Fields(r.stdout) {
				tb.Errorf("leftover: containerd task %s/%s", ctrNamespace, id)
				ctr("task", "kill", "-a", "-s", "SIGKILL", id)
				ctr("task", "delete", "-f", id)
			}
		}
		if r, _ := ctr("containers", "ls", "-q"); r.code == 0 {
			for _, id := range strings.Fields(r.stdout) {
				tb.Errorf("leftover: containerd container %s/%s", ctrNamespace, id)
				ctr("containers", "delete", id)
			}
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			tb.Errorf("containerd did not exit on SIGTERM within 20s")
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, _ := ctr("version")
		if r.code == 0 && strings.Contains(r.stdout, "Server:") {
			return ctr
		}
		select {
		case <-done:
			tb.Fatalf("containerd exited: %v\n%s", cmd.ProcessState, logTail())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("containerd did not answer within 30s:\n%s", logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeLayer writes the busybox image's single layer, the rootfs tarball `podman import` reads.
func writeLayer(tb testing.TB, path string) {
	tb.Helper()
	entries, err := busyboxEntries(suite.Busybox)
	if err != nil {
		tb.Fatal(err)
	}
	layer, err := layerTar(entries)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, layer, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// tomlStrings formats a TOML array of strings.
func tomlStrings(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
