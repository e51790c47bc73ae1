package runtime

import (
	"errors"

	"github.com/unha/unha/internal/spec"
)

// Sentinel classes; cmd/ maps them to exit codes and keeps runc's wording,
// which clients (containerd, podman, CRI-O) match on.
var (
	ErrNotExist   = errors.New("container does not exist")
	ErrExist      = errors.New("container with given ID already exists")
	ErrNotRunning = errors.New("container not running")
	ErrInvalid    = spec.ErrInvalid
)
