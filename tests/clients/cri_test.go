//go:build linux

package clients

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// criParent is the pods' cgroup parent, beneath the suite's cgroup like everything else.
const criParent = "unha-pods"

// cri is a containerd with the CRI plugin and crictl pointed at it.
type cri struct {
	*containerd
	crictl string
	config string
}

func newCRI(t *testing.T) *cri {
	c := newContainerd(t, true)
	k := &cri{containerd: c, crictl: c.lookTool("crictl")}
	// A private crictl config: no /etc/crictl.yaml, no image pulls (there is no registry).
	k.config = c.writeFile("crictl.yaml", fmt.Sprintf(
		"runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\npull-image-on-create: false\n", c.sock, c.sock))
	c.keep[criParent] = true
	// Registered after containerd's stop, so it runs before it.
	t.Cleanup(k.clean)
	_, busyboxOCI, pauseOCI := testImages(t)
	c.importImage("k8s.io", pauseOCI, pauseRef)
	c.importImage("k8s.io", busyboxOCI, busyboxRef)
	return k
}

func (k *cri) cri(args ...string) result {
	k.t.Helper()
	return k.run(0, k.env, k.crictl, append([]string{"--config", k.config}, args...)...)
}

// clean fails the test for pods and containers the CRI plugin still lists, and removes them.
func (k *cri) clean() {
	k.t.Helper()
	if r := k.cri("ps", "-a", "-q"); r.code == 0 && strings.TrimSpace(r.stdout) != "" {
		k.t.Errorf("leftover: CRI containers %v", strings.Fields(r.stdout))
	}
	if r := k.cri("pods", "-q"); r.code == 0 && strings.TrimSpace(r.stdout) != "" {
		k.t.Errorf("leftover: CRI pods %v", strings.Fields(r.stdout))
		k.cri("rmp", "-f", "-a")
	}
}

// status reads .status of `crictl inspect[p] -o json`.
func (k *cri) status(verb, id string) map[string]any {
	k.t.Helper()
	r := k.must(k.cri(verb, "-o", "json", id))
	var v struct {
		Status map[string]any `json:"status"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		k.t.Fatalf("crictl %s: %v: %s", verb, err, r)
	}
	return v.Status
}

// TestCRIPodLifecycle is Kubernetes' path: containerd's CRI plugin runs a pod through the
// runtime handler "unha" (the runc v2 shim with BinaryName = the runtime), with the pause image
// the suite built; a container is created and started in it, exec'd into (synchronously and
// through the streaming server), stopped (SIGTERM reaches its trap), and the pod is stopped
// and removed. The pod uses the host's network, so no CNI plugin is involved.
func TestCRIPodLifecycle(t *testing.T) {
	k := newCRI(t)
	v := k.must(k.cri("version"))
	if !strings.Contains(v.stdout, "RuntimeName:  containerd") {
		t.Errorf("crictl version: %s", v)
	}
	imgs := k.must(k.cri("images"))
	for _, ref := range []string{"localhost/unha-pause", "localhost/unha-busybox"} {
		if !strings.Contains(imgs.stdout, ref) {
			t.Errorf("CRI does not list %s: %s", ref, imgs)
		}
	}

	logs := k.path("pod-logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	uid := uniqueID("uid")
	pod := k.writeFile("pod.json", fmt.Sprintf(`{
  "metadata": {"name": "unha-pod", "namespace": "unha-test", "uid": %q, "attempt": 0},
  "log_directory": %q,
  "linux": {
    "cgroup_parent": "/%s",
    "security_context": {"namespace_options": {"network": 2}}
  }
}`, uid, logs, criParent))
	ctr := k.writeFile("container.json", fmt.Sprintf(`{
  "metadata": {"name": "bb"},
  "image": {"image": %q},
  "command": ["/bin/sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo started; sleep 600 & wait"],
  "log_path": "bb.log",
  "linux": {}
}`, busyboxRef))

	podID := strings.TrimSpace(k.must(k.cri("runp", "--runtime", "unha", pod)).stdout)
	k.track(podID)
	st := k.status("inspectp", podID)
	if st["state"] != "SANDBOX_READY" {
		t.Fatalf("pod state %v, want SANDBOX_READY", st["state"])
	}
	if h := st["runtimeHandler"]; h != "unha" {
		t.Errorf("pod runtime handler %v, want unha", h)
	}

	cid := strings.TrimSpace(k.must(k.cri("create", "--no-pull", podID, ctr, pod)).stdout)
	k.track(cid)
	k.must(k.cri("start", cid))
	k.eventually(20*time.Second, "the container logs started", func() string {
		r := k.cri("logs", cid)
		if st := k.status("inspect", cid); st["state"] != "CONTAINER_RUNNING" {
			return fmt.Sprintf("state %v", st["state"])
		}
		if !strings.Contains(r.stdout, "started") {
			return r.String()
		}
		return ""
	})

	sync := k.must(k.cri("exec", "-s", cid, "sh", "-c", "echo exec-sync; cat /etc/unha-image"))
	k.wantLines(sync, "exec-sync", imageMarker)
	// crictl exits 1 for any failed command and names the status.
	if fail := k.wantCode(k.cri("exec", "-s", cid, "sh", "-c", "exit 3"), 1); !strings.Contains(fail.stderr, "exited with 3") {
		t.Errorf("exec -s does not report exit status 3: %s", fail)
	}
	cg := k.must(k.cri("exec", "-s", cid, "cat", "/proc/self/cgroup"))
	if want := fmt.Sprintf(":pids:/%s/%s", criParent, cid); !strings.Contains(cg.stdout, want) {
		t.Errorf("the container's cgroup is not %s: %s", want, cg)
	}
	// A pod on the host's network shares the host's UTS namespace too.
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	stream := k.must(k.cri("exec", cid, "sh", "-c", "echo exec-stream; hostname"))
	k.wantLines(stream, "exec-stream", host)

	k.must(k.cri("stop", "--timeout", "30", cid))
	st = k.status("inspect", cid)
	if st["state"] != "CONTAINER_EXITED" || fmt.Sprint(st["exitCode"]) != "0" {
		t.Errorf("after stop: state %v exit %v, want CONTAINER_EXITED 0 (the TERM trap ran)", st["state"], st["exitCode"])
	}
	k.wantLines(k.must(k.cri("logs", cid)), "started", "got TERM")

	k.must(k.cri("stopp", podID))
	k.must(k.cri("rmp", podID))
	if r := k.must(k.cri("pods", "-q")); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("pods left after rmp: %s", r)
	}
	if r := k.must(k.cri("ps", "-a", "-q")); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("containers left after rmp: %s", r)
	}
}
