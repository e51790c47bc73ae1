package main

import (
	"github.com/spf13/cobra"

	"github.com/unha/unha/internal/app"
	"github.com/unha/unha/internal/specgen"
)

const runLong = `Run a command in a new container, in the foreground.

IMAGE is the built-in image "host": the host's /usr (and /bin, /lib… as the
host has them) read-only, a generated /etc, a private /tmp, and fresh /proc,
/dev and /sys; nothing to download. With --rootfs DIR there is no IMAGE
argument: DIR is the root file system and everything after the flags is the
command. The default command is sh.

Exit status: the command's own, 128+N when signal N killed it, 125 when unha
itself failed, 126 when the command cannot be invoked, 127 when it is not
found.`

func (c *cli) runCommand() *cobra.Command {
	var o app.RunOptions
	cmd := &cobra.Command{
		Use:                   "run [OPTIONS] IMAGE [COMMAND] [ARG...]\n  unha run [OPTIONS] --rootfs DIR [COMMAND] [ARG...]",
		Short:                 "Run a command in a new container",
		DisableFlagsInUseLine: true,
		Long:                  runLong,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.Rootfs != "" {
				return nil
			}
			return minArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Rootfs == "" {
				o.Image, args = args[0], args[1:]
			}
			o.Args = args
			e, err := c.engine()
			if err != nil {
				return err
			}
			code, err := e.Run(cmd.Context(), o)
			c.code = code
			return err
		},
	}
	f := cmd.Flags()
	// Everything after IMAGE belongs to the container's command.
	f.SetInterspersed(false)
	// Docker's -h is --hostname; help is --help only.
	f.Bool("help", false, "print usage")
	f.BoolVar(&o.Remove, "rm", false, "remove the container when it exits")
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "keep STDIN attached")
	f.BoolVarP(&o.TTY, "tty", "t", false, "allocate a pseudo-TTY")
	f.StringVar(&o.Name, "name", "", "name the container")
	f.StringVarP(&o.Hostname, "hostname", "h", "", "container host name (default: the short container ID)")
	f.StringArrayVarP(&o.Env, "env", "e", nil, "set environment variable NAME=VALUE (NAME alone: take it from unha's environment)")
	f.StringArrayVar(&o.EnvFiles, "env-file", nil, "read environment variables from a file")
	f.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.User, "user", "u", "", "user and group: NAME|UID[:NAME|GID]")
	f.BoolVar(&o.ReadOnly, "read-only", false, "mount the container's root file system read-only")
	f.StringVar(&o.Network, "network", specgen.NetworkNone, `network: "none" (own namespace, loopback only) or "host"`)
	f.StringVar(&o.Rootfs, "rootfs", "", "run DIR as the root file system, instead of an image")
	f.StringVar(&o.CIDFile, "cidfile", "", "write the container ID to the file")
	// Repeatable and not split at commas, as Docker's list options.
	f.StringArrayVar(&o.CapAdd, "cap-add", nil, "add a Linux capability (CAP_ prefix optional, any case; ALL for every one)")
	f.StringArrayVar(&o.CapDrop, "cap-drop", nil, "drop a Linux capability (CAP_ prefix optional, any case; ALL for every one)")
	f.BoolVar(&o.Privileged, "privileged", false, "every capability, no seccomp filter, unmasked /proc, writable /sys, any device allowed (host device nodes are not created)")
	f.StringArrayVar(&o.SecurityOpts, "security-opt", nil, "security option: seccomp=PROFILE.json|unconfined|builtin, no-new-privileges[=true|false], systempaths=unconfined")
	// Resource limits, in Docker's units (64m, 1.5); specgen checks them.
	r := &o.Resources
	f.StringVarP(&r.Memory, "memory", "m", "", "memory limit (bytes, or with a unit: 64m, 1g)")
	f.StringVar(&r.MemorySwap, "memory-swap", "", "memory plus swap limit (default twice --memory); -1 for unlimited swap")
	f.StringVar(&r.MemoryReservation, "memory-reservation", "", "memory soft limit")
	f.BoolVar(&r.OOMKillDisable, "oom-kill-disable", false, "disable the OOM killer")
	f.StringVar(&r.CPUs, "cpus", "", "number of CPUs (1.5: 150ms of CPU time every 100ms)")
	f.Int64VarP(&r.CPUShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	f.StringVar(&r.CpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	f.StringVar(&r.CpusetMems, "cpuset-mems", "", "memory nodes in which to allow execution (0-3, 0,1)")
	f.Int64Var(&r.PidsLimit, "pids-limit", 0, "tune container pids limit (-1 for unlimited)")
	f.Uint16Var(&r.BlkioWeight, "blkio-weight", 0, "block IO (relative weight), between 10 and 1000")
	f.StringArrayVar(&r.DeviceReadBps, "device-read-bps", nil, "limit read rate from a device (/dev/sda:1mb)")
	f.StringArrayVar(&r.DeviceWriteBps, "device-write-bps", nil, "limit write rate to a device (/dev/sda:1mb)")
	f.StringArrayVar(&r.Devices, "device", nil, "add a host device to the container (/dev/x[:/dev/y][:rwm])")
	return cmd
}
