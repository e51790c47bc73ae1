package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/unha/unha/internal/runtime"
	"github.com/unha/unha/internal/spec"
)

func specCmd() *command {
	var bundle string
	var rootless bool
	c := newCommand("spec", "[flags]", "write a default config.json into the bundle")
	c.args = exactArgs(0, "none")
	c.run = func([]string) error {
		s := spec.Default()
		if rootless {
			spec.Rootless(s, uint32(os.Geteuid()), uint32(os.Getegid()))
		}
		p := filepath.Join(bundle, "config.json")
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("file %s exists: remove it first: %w", p, runtime.ErrInvalid)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		b, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return err
		}
		return os.WriteFile(p, append(b, '\n'), 0o666)
	}
	c.flags.String(&bundle, "bundle", "b", ".", "path to the root of the bundle directory")
	c.flags.Bool(&rootless, "rootless", "", false, "generate a configuration for a rootless container")
	return c
}
