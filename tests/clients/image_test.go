//go:build linux

package clients

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// There is no registry here: the images are made from the host's static busybox (and the
// pause program), as a plain rootfs tarball for `podman import` and as an OCI image layout
// tarball (layer tar.gz, config, manifest, index) for `ctr images import`.

// imageMarker is /etc/unha-image in the busybox image: its content proves which image ran.
const imageMarker = "unha test image"

// applets are the busybox applets linked into the busybox image.
var applets = []string{"sh", "echo", "cat", "sleep", "ls", "id", "hostname", "tty", "stty",
	"true", "false", "ps", "kill", "env", "wc", "grep", "head"}

// entry is one file of an image's single layer.
type entry struct {
	name string
	mode int64
	typ  byte
	link string
	data []byte
}

// epoch is every file's mtime, so the same input makes the same image.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func dirs(names ...string) []entry {
	var out []entry
	for _, n := range names {
		mode := int64(0o755)
		if n == "tmp" {
			mode = 0o1777
		}
		out = append(out, entry{name: n, mode: mode, typ: tar.TypeDir})
	}
	return out
}

func busyboxEntries(busybox string) ([]entry, error) {
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return nil, err
	}
	out := dirs("bin", "dev", "etc", "proc", "sys", "tmp", "root", "run", "var")
	out = append(out, entry{name: "bin/busybox", mode: 0o755, typ: tar.TypeReg, data: bb})
	for _, a := range applets {
		out = append(out, entry{name: "bin/" + a, mode: 0o777, typ: tar.TypeSymlink, link: "busybox"})
	}
	for name, content := range map[string]string{
		"etc/passwd":     "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":      "root:x:0:\nnogroup:x:65534:\n",
		"etc/unha-image": imageMarker + "\n",
	} {
		out = append(out, entry{name: name, mode: 0o644, typ: tar.TypeReg, data: []byte(content)})
	}
	return out, nil
}

func pauseEntries(pause string) ([]entry, error) {
	b, err := os.ReadFile(pause)
	if err != nil {
		return nil, err
	}
	out := dirs("dev", "etc", "proc", "sys")
	return append(out, entry{name: "pause", mode: 0o755, typ: tar.TypeReg, data: b}), nil
}

// layerTar writes entries as an uncompressed tar, owned by root.
func layerTar(entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, en := range entries {
		h := &tar.Header{Name: en.name, Mode: en.mode, Typeflag: en.typ, Linkname: en.link,
			Size: int64(len(en.data)), ModTime: epoch, Format: tar.FormatPAX}
		if en.typ == tar.TypeDir {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(en.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// descriptor is an OCI content descriptor (image-spec descriptor.md).
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// imageConfig is the part of the OCI image configuration (image-spec config.md) the tests set.
type imageConfig struct {
	Entrypoint []string
	Cmd        []string
}

// ociArchive writes an OCI image layout (image-spec image-layout.md) holding one image of one
// layer, as a tar, to path. ref names it: ctr reads io.containerd.image.name, other tools the
// standard org.opencontainers.image.ref.name.
func ociArchive(path, ref string, entries []entry, cfg imageConfig) error {
	layer, err := layerTar(entries)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(layer); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	blobs := map[string][]byte{}
	add := func(b []byte) string {
		d := fmt.Sprintf("sha256:%x", sha256.Sum256(b))
		blobs[d] = b
		return d
	}
	diffID := fmt.Sprintf("sha256:%x", sha256.Sum256(layer))
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      epoch.Format(time.RFC3339),
		"config": map[string]any{
			"Env":        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Entrypoint": cfg.Entrypoint,
			"Cmd":        cfg.Cmd,
			"WorkingDir": "/",
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		"history": []map[string]any{{"created": epoch.Format(time.RFC3339), "created_by": "unha tests/clients"}},
	})
	if err != nil {
		return err
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: add(config), Size: int64(len(config))},
		"layers":        []descriptor{{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: add(gz.Bytes()), Size: int64(gz.Len())}},
	})
	if err != nil {
		return err
	}
	tag := ref[strings.LastIndex(ref, ":")+1:]
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []descriptor{{
			MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: add(manifest), Size: int64(len(manifest)),
			Platform: &platform{Architecture: runtime.GOARCH, OS: "linux"},
			Annotations: map[string]string{
				"io.containerd.image.name":          ref,
				"org.opencontainers.image.ref.name": tag,
			},
		}},
	})
	if err != nil {
		return err
	}
	files := []entry{
		{name: "oci-layout", mode: 0o644, typ: tar.TypeReg, data: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{name: "index.json", mode: 0o644, typ: tar.TypeReg, data: index},
		{name: "blobs", mode: 0o755, typ: tar.TypeDir},
		{name: "blobs/sha256", mode: 0o755, typ: tar.TypeDir},
	}
	for d, b := range blobs {
		files = append(files, entry{name: "blobs/sha256/" + strings.TrimPrefix(d, "sha256:"), mode: 0o644, typ: tar.TypeReg, data: b})
	}
	out, err := layerTar(files)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}

// The image files are made once per suite, in the suite's directory.
var (
	imagesOnce sync.Once
	imagesErr  error
	images     struct{ rootfsTar, busyboxOCI, pauseOCI string }
)

// Image references the tests use.
const (
	busyboxRef = "localhost/unha-busybox:1"
	pauseRef   = "localhost/unha-pause:1"
)

func testImages(t *testing.T) (rootfsTar, busyboxOCI, pauseOCI string) {
	t.Helper()
	imagesOnce.Do(func() {
		dir := filepath.Join(suite.Base, "images")
		if imagesErr = os.MkdirAll(dir, 0o755); imagesErr != nil {
			return
		}
		var bb, pause []entry
		if bb, imagesErr = busyboxEntries(suite.Busybox); imagesErr != nil {
			return
		}
		var layer []byte
		if layer, imagesErr = layerTar(bb); imagesErr != nil {
			return
		}
		images.rootfsTar = filepath.Join(dir, "busybox-rootfs.tar")
		if imagesErr = os.WriteFile(images.rootfsTar, layer, 0o644); imagesErr != nil {
			return
		}
		images.busyboxOCI = filepath.Join(dir, "busybox-oci.tar")
		if imagesErr = ociArchive(images.busyboxOCI, busyboxRef, bb, imageConfig{Cmd: []string{"/bin/sh"}}); imagesErr != nil {
			return
		}
		if pause, imagesErr = pauseEntries(suite.Pause); imagesErr != nil {
			return
		}
		images.pauseOCI = filepath.Join(dir, "pause-oci.tar")
		imagesErr = ociArchive(images.pauseOCI, pauseRef, pause, imageConfig{Entrypoint: []string{"/pause"}})
	})
	if imagesErr != nil {
		t.Fatalf("making the test images: %v", imagesErr)
	}
	return images.rootfsTar, images.busyboxOCI, images.pauseOCI
}
