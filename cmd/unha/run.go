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
	return cmd
}
