package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/unha/unha/internal/specgen"
)

// RunOptions are the flags of `unha run`.
type RunOptions struct {
	Image       string   // specgen.HostImage; empty with Rootfs
	Rootfs      string   // --rootfs DIR: run DIR as the root, no image
	Args        []string // the command; default sh
	Remove      bool     // --rm
	Interactive bool     // -i
	TTY         bool     // -t
	Name        string   // --name
	Hostname    string   // --hostname
	Env         []string // -e, NAME=VALUE or NAME (taken from unha's environment)
	EnvFiles    []string // --env-file
	Workdir     string   // -w
	User        string   // -u USER[:GROUP]
	ReadOnly    bool     // --read-only
	Network     string   // --network none|host
	CIDFile     string   // --cidfile: write the container ID there
	// Security flags, applied by specgen.Security.
	CapAdd       []string // --cap-add
	CapDrop      []string // --cap-drop
	Privileged   bool     // --privileged
	SecurityOpts []string // --security-opt
	// Resources are the resource flags (--memory, --cpus, --device...).
	Resources specgen.Resources
}

// Bounds on runtime calls, so a hung runtime cannot hang unha forever.
// create is generous: it runs the createRuntime hooks networking will use.
const (
	createTimeout  = 2 * time.Minute
	controlTimeout = 30 * time.Second
	drainTimeout   = 5 * time.Second
)

// Run runs a container in the foreground and returns its exit status.
// Errors are unha's own failures; ErrCommandNotFound and
// ErrCommandNotExecutable mark a command the runtime could not exec.
func (a *App) Run(ctx context.Context, o RunOptions) (int, error) {
	if err := checkRunOptions(&o); err != nil {
		return 0, err
	}
	if o.TTY && o.Interactive && !term.IsTerminal(int(a.cfg.Stdin.Fd())) {
		return 0, errors.New("the input device is not a TTY")
	}
	rtPath, err := a.resolveRuntime()
	if err != nil {
		return 0, err
	}
	userEnv, err := a.userEnv(o)
	if err != nil {
		return 0, err
	}
	var cid *os.File
	if o.CIDFile != "" {
		// Docker refuses an existing file: it may belong to a container
		// that is still running.
		cid, err = os.OpenFile(o.CIDFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return 0, fmt.Errorf("container ID file: %w", err)
		}
		defer cid.Close()
	}
	written := false
	defer func() {
		// Docker's CLI removes a cidfile no container ID was written to.
		if cid != nil && !written {
			os.Remove(o.CIDFile)
		}
	}()

	image := o.Image
	if o.Rootfs != "" {
		if image, err = filepath.Abs(o.Rootfs); err != nil {
			return 0, err
		}
	}
	c := &Container{Name: o.Name, Image: image, Command: o.Args, Created: time.Now().UTC(), AutoRemove: o.Remove}
	if err := a.store.create(c); err != nil {
		return 0, err
	}
	if cid != nil {
		if _, err := cid.WriteString(c.ID); err != nil {
			a.store.remove(c)
			return 0, fmt.Errorf("container ID file: %w", err)
		}
		written = true
	}
	// Until the runtime is involved nothing else exists: a failure removes
	// the container whatever --rm says.
	if err := a.writeSpec(c, o, userEnv); err != nil {
		if rerr := a.store.remove(c); rerr != nil {
			a.log.Warn("remove container", "id", c.ID, "err", rerr)
		}
		return 0, err
	}
	return a.runContainer(ctx, c, rtPath, o)
}

func checkRunOptions(o *RunOptions) error {
	switch o.Network {
	case "":
		o.Network = specgen.NetworkNone
	case specgen.NetworkNone, specgen.NetworkHost:
	default:
		return fmt.Errorf("network %q is not supported: use %q or %q", o.Network, specgen.NetworkNone, specgen.NetworkHost)
	}
	switch {
	case o.Rootfs != "" && o.Image != "":
		return errors.New("--rootfs replaces the image: give the command only")
	case o.Rootfs == "" && o.Image == "":
		return errors.New("no image given")
	case o.Rootfs == "" && o.Image != specgen.HostImage:
		return fmt.Errorf("unable to find image %q: only the built-in image %q and --rootfs DIR exist for now", o.Image, specgen.HostImage)
	}
	if len(o.Args) == 0 {
		o.Args = []string{"sh"}
	}
	if o.Workdir != "" && !strings.HasPrefix(o.Workdir, "/") {
		return fmt.Errorf("the working directory %q is invalid, it needs to be an absolute path", o.Workdir)
	}
	return nil
}

// userEnv is --env-file then -e, later names winning, as in Docker.
func (a *App) userEnv(o RunOptions) ([]string, error) {
	var env []string
	for _, name := range o.EnvFiles {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("env file: %w", err)
		}
		vars, err := specgen.ParseEnvFile(f, name, os.LookupEnv)
		f.Close()
		if err != nil {
			return nil, err
		}
		env = specgen.Merge(env, vars)
	}
	vars, err := specgen.ExpandEnv(o.Env, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return specgen.Merge(env, vars), nil
}

// writeSpec prepares the root filesystem and writes config.json.
func (a *App) writeSpec(c *Container, o RunOptions, userEnv []string) error {
	bundle := a.store.bundle(c.ID)
	hostNet := o.Network == specgen.NetworkHost
	hostname := o.Hostname
	if hostname == "" {
		hostname = c.ShortID()
		if hostNet {
			// Docker: a container on the host's network has the host's
			// name (in its own UTS namespace).
			if h, err := os.Hostname(); err == nil {
				hostname = h
			}
		}
	}
	var img *image
	var err error
	if o.Rootfs != "" {
		img, err = prepareRootfs(bundle, o.Rootfs, hostname, hostNet, o.ReadOnly)
	} else {
		img, err = prepareHost(bundle, hostname, hostNet)
	}
	if err != nil {
		return err
	}
	user, home, err := specgen.ResolveUser(o.User, img.passwd, img.group)
	if err != nil {
		return err
	}
	sec, err := security(o)
	if err != nil {
		return err
	}
	res, err := o.Resources.Spec(resourceHost())
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		a.log.Warn(w)
	}
	so := specgen.Options{
		Root:      img.root,
		ReadOnly:  o.ReadOnly,
		Args:      o.Args,
		Env:       specgen.Env(hostname, home, o.TTY, userEnv),
		Cwd:       o.Workdir,
		User:      user,
		TTY:       o.TTY,
		Hostname:  hostname,
		Network:   o.Network,
		Mounts:    img.mounts,
		Security:  sec,
		Resources: res,
	}
	if o.TTY {
		so.ConsoleSize = terminalSize(a.cfg.Stdout, a.cfg.Stdin)
	}
	if os.Geteuid() != 0 {
		// Rootless: the runtime (in its --rootless=auto mode) needs a user
		// namespace, and the caller may map only itself.
		so.UserNS = specgen.RootlessUserNS(uint32(os.Geteuid()), uint32(os.Getegid()))
	}
	spec, err := specgen.Generate(so)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600)
}
