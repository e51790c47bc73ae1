package rootfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// flagWord is a mount(8) option word that sets or clears one MS_* flag.
type flagWord struct {
	clear bool
	flag  uint64
}

// flagWords is mount(8)'s table of generic options (the same words runc
// accepts). Filesystem-specific words are not here: they go to the data.
var flagWords = map[string]flagWord{
	"defaults":      {false, 0},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"nosuid":        {false, unix.MS_NOSUID},
	"suid":          {true, unix.MS_NOSUID},
	"nodev":         {false, unix.MS_NODEV},
	"dev":           {true, unix.MS_NODEV},
	"noexec":        {false, unix.MS_NOEXEC},
	"exec":          {true, unix.MS_NOEXEC},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"remount":       {false, unix.MS_REMOUNT},
	"mand":          {false, unix.MS_MANDLOCK},
	"nomand":        {true, unix.MS_MANDLOCK},
	"atime":         {true, unix.MS_NOATIME},
	"noatime":       {false, unix.MS_NOATIME},
	"diratime":      {true, unix.MS_NODIRATIME},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"relatime":      {false, unix.MS_RELATIME},
	"norelatime":    {true, unix.MS_RELATIME},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"silent":        {false, unix.MS_SILENT},
	"loud":          {true, unix.MS_SILENT},
	"iversion":      {false, unix.MS_I_VERSION},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
	"bind":          {false, unix.MS_BIND},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
}

// atimeWords pick the mount's access-time mode. The kernel keeps it as one
// enum (MOUNT_ATTR__ATIME), so the last word wins. "atime", "nostrictatime"
// mean "the kernel default", which is relatime; "norelatime" means always
// update, which is strictatime (mount(8)).
var atimeWords = map[string]uint64{
	"atime":         unix.MOUNT_ATTR_RELATIME,
	"noatime":       unix.MOUNT_ATTR_NOATIME,
	"relatime":      unix.MOUNT_ATTR_RELATIME,
	"norelatime":    unix.MOUNT_ATTR_STRICTATIME,
	"strictatime":   unix.MOUNT_ATTR_STRICTATIME,
	"nostrictatime": unix.MOUNT_ATTR_RELATIME,
}

var propagationWords = map[string]uint64{
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// recWords are runc's recursive variants (runc 1.1+), applied with
// mount_setattr(AT_RECURSIVE) to the whole tree of a bind mount.
var recWords = map[string]struct {
	clear bool
	attr  uint64
}{
	"rro":            {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":            {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":        {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":          {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":         {false, unix.MOUNT_ATTR_NODEV},
	"rdev":           {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":        {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":          {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":    {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":      {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow":   {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":     {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rrelatime":      {false, unix.MOUNT_ATTR_RELATIME},
	"rnorelatime":    {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnoatime":       {false, unix.MOUNT_ATTR_NOATIME},
	"ratime":         {false, unix.MOUNT_ATTR_RELATIME},
	"rstrictatime":   {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnostrictatime": {false, unix.MOUNT_ATTR_RELATIME},
}

// recAtime marks the recursive words that choose the atime enum.
var recAtime = map[string]bool{
	"rrelatime": true, "rnorelatime": true, "rnoatime": true,
	"ratime": true, "rstrictatime": true, "rnostrictatime": true,
}

// parsedOptions is a spec mount's option list taken apart.
type parsedOptions struct {
	flags   uint64  // MS_* set
	cleared uint64  // MS_* explicitly cleared
	atime   *uint64 // MOUNT_ATTR_* atime value chosen by the last atime word
	prop    []uint64
	rec     *Attr
	data    []string
	copyUp  bool
	idmap   idmapKind
}

// idmapKind is the "idmap" (top mount only) or "ridmap" (every mount of
// the tree) option.
type idmapKind int

const (
	idmapNone idmapKind = iota
	idmapTop
	idmapRecursive
)

func parseOptions(words []string) (parsedOptions, error) {
	var p parsedOptions
	for _, w := range words {
		if f, ok := flagWords[w]; ok {
			if f.clear {
				p.flags &^= f.flag
				p.cleared |= f.flag
			} else {
				p.flags |= f.flag
				p.cleared &^= f.flag
			}
			if a, ok := atimeWords[w]; ok {
				p.atime = &a
			}
			continue
		}
		if pf, ok := propagationWords[w]; ok {
			p.prop = append(p.prop, pf)
			continue
		}
		if r, ok := recWords[w]; ok {
			if p.rec == nil {
				p.rec = &Attr{}
			}
			switch {
			case recAtime[w]:
				// mount_setattr(2): the atime mode is an enum, so changing it
				// needs MOUNT_ATTR__ATIME in attr_clr and the value in attr_set.
				p.rec.Set = p.rec.Set&^unix.MOUNT_ATTR__ATIME | r.attr
				p.rec.Clr |= unix.MOUNT_ATTR__ATIME
			case r.clear:
				p.rec.Set &^= r.attr
				p.rec.Clr |= r.attr
			default:
				p.rec.Set |= r.attr
				p.rec.Clr &^= r.attr
			}
			continue
		}
		switch w {
		case "tmpcopyup":
			p.copyUp = true
			continue
		case "idmap":
			p.idmap = idmapTop
			continue
		case "ridmap":
			p.idmap = idmapRecursive
			continue
		case "":
			continue
		}
		// Like runc: a word that is not a generic option belongs to the
		// filesystem. Some clients pass "a=1,b=2" as one word.
		p.data = append(p.data, splitData(w)...)
	}
	return p, nil
}

// msToAttr pairs MS_* flags with the MOUNT_ATTR_* bits of the new API.
var msToAttr = []struct{ ms, attr uint64 }{
	{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
	{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
	{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
	{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
	{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// mountAttr is what mount_setattr (or fsmount) gets for the mount itself.
// Only the flags the spec names are touched: a bind mount keeps the
// source's nosuid/nodev/noexec unless the spec clears them explicitly
// (mount(8) with the new mount API behaves the same way), and locked flags
// of a mount inherited into a user namespace are never "forgotten".
func mountAttr(p parsedOptions) Attr {
	var a Attr
	for _, m := range msToAttr {
		if p.flags&m.ms != 0 {
			a.Set |= m.attr
		}
		if p.cleared&m.ms != 0 {
			a.Clr |= m.attr
		}
	}
	if p.atime != nil {
		a.Set |= *p.atime
		a.Clr |= unix.MOUNT_ATTR__ATIME
	}
	return a
}

// sbFlags are the superblock flags fsconfig(FSCONFIG_SET_FLAG) understands
// for every filesystem (fs/fs_context.c: common_set_sb_flag and
// common_clear_sb_flag). "silent" and "iversion" have no key there: with
// fsopen the kernel reports mount errors through the context log (which we
// read into the error) instead of dmesg, so "silent" has nothing left to
// silence, and filesystems that keep change counters (ext4 since 6.2, xfs,
// btrfs, tmpfs) keep them unconditionally, so "iversion" has nothing left to
// enable. The clearing words matter only when reconfiguring an existing
// superblock.
func sbFlags(p parsedOptions, reconfigure bool) []string {
	var out []string
	for _, f := range []struct {
		ms       uint64
		set, clr string
	}{
		{unix.MS_RDONLY, "ro", "rw"},
		{unix.MS_SYNCHRONOUS, "sync", "async"},
		{unix.MS_DIRSYNC, "dirsync", ""},
		{unix.MS_MANDLOCK, "mand", "nomand"},
		{unix.MS_LAZYTIME, "lazytime", "nolazytime"},
	} {
		switch {
		case p.flags&f.ms != 0:
			out = append(out, f.set)
		case reconfigure && p.cleared&f.ms != 0 && f.clr != "":
			out = append(out, f.clr)
		}
	}
	return out
}

// splitData splits a filesystem data string on commas the way the kernel's
// monolithic parsers do, keeping backslash-escaped commas (overlayfs) and
// commas inside double quotes (SELinux contexts) in one option.
func splitData(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
			}
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
