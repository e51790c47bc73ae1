package rootfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PrepareIDMapped is the runtime's half of an idmapped bind mount: it
// clones op.Source (open_tree OPEN_TREE_CLONE, recursively for rbind),
// applies the mount's flags and then MOUNT_ATTR_IDMAP with userns, a user
// namespace whose maps are op.IDMap's, and returns the still detached
// tree for init to attach (Options.IDMapped).
//
// It must run in the caller's (the host's) user and mount namespace:
// mount_setattr(2) idmaps a mount only for a caller with CAP_SYS_ADMIN over
// the user namespace of the filesystem's superblock (the initial one for a
// host filesystem), and only while the mount is detached. Init, in the
// container's user namespace, can do neither; it can attach a detached
// tree to its own mount namespace with move_mount(2).
func PrepareIDMapped(op MountOp, userns *os.File) (*os.File, error) {
	return prepareIDMapped(kernel{}, op, userns)
}

func prepareIDMapped(m mounter, op MountOp, userns *os.File) (*os.File, error) {
	if op.IDMap == nil || op.Kind != KindBind {
		return nil, fmt.Errorf("mount %s on %s is not an idmapped bind", op.Source, op.Destination)
	}
	src, err := os.OpenFile(op.Source, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	tree, err := m.OpenTree(src, op.Recursive)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			tree.Close()
		}
	}()
	// The flags now, as bindOnto does: the tree is still detached and
	// private to us, so it is never visible with the wrong ones.
	if op.Attr.Set|op.Attr.Clr != 0 {
		if err := m.SetAttr(tree, false, unix.MountAttr{Attr_set: op.Attr.Set, Attr_clr: op.Attr.Clr}); err != nil {
			return nil, err
		}
	}
	if op.RecAttr != nil {
		if err := m.SetAttr(tree, true, unix.MountAttr{Attr_set: op.RecAttr.Set, Attr_clr: op.RecAttr.Clr}); err != nil {
			return nil, err
		}
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := m.SetAttr(tree, op.IDMap.Recursive, attr); err != nil {
		return nil, fmt.Errorf("idmap %s: %w", op.Source, err)
	}
	ok = true
	return tree, nil
}

// bindIDMapped attaches the tree the runtime prepared for op.
func (a *applier) bindIDMapped(op MountOp) error {
	tree := a.opts.IDMapped[op.Index]
	if tree == nil {
		return fmt.Errorf("the runtime sent no idmapped tree for mount %d", op.Index)
	}
	target, err := a.bindTarget(op, tree)
	if err != nil {
		return err
	}
	defer target.Close()
	// Flags and idmapping are set already; what is left is attaching it
	// and its propagation.
	return a.attach(op, tree, target)
}
