package specgen

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ResolveUser turns `-u USER[:GROUP]` into the process user and its home,
// with Docker's rules, from the image's passwd and group files (nil when the
// image has none): names are looked up, numbers need not exist; a numeric
// user missing from passwd gets gid 0 and home /; the user's supplementary
// groups are the groups that list its name. An empty spec is root.
func ResolveUser(spec string, passwd, group []byte) (specs.User, string, error) {
	if spec == "" {
		spec = "0"
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" || (hasGroup && groupPart == "") {
		return specs.User{}, "", fmt.Errorf("invalid user %q: want USER[:GROUP]", spec)
	}
	users := parseDB(passwd, 7)
	groups := parseDB(group, 4)

	u := specs.User{}
	home := "/"
	name := ""
	var entry []string
	if id, ok := parseID(userPart); ok {
		u.UID = id
		for _, e := range users {
			if e[2] == userPart {
				entry = e
				break
			}
		}
	} else {
		for _, e := range users {
			if e[0] == userPart {
				entry = e
				break
			}
		}
		if entry == nil {
			return specs.User{}, "", fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
		}
		id, ok := parseID(entry[2])
		if !ok {
			return specs.User{}, "", fmt.Errorf("user %s: invalid uid %q in passwd file", userPart, entry[2])
		}
		u.UID = id
	}
	if entry != nil {
		name = entry[0]
		if gid, ok := parseID(entry[3]); ok {
			u.GID = gid
		}
		if entry[5] != "" {
			home = entry[5]
		}
	}
	if hasGroup {
		if id, ok := parseID(groupPart); ok {
			u.GID = id
		} else {
			found := false
			for _, e := range groups {
				if e[0] == groupPart {
					id, ok := parseID(e[2])
					if !ok {
						return specs.User{}, "", fmt.Errorf("group %s: invalid gid %q in group file", groupPart, e[2])
					}
					u.GID, found = id, true
					break
				}
			}
			if !found {
				return specs.User{}, "", fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
			}
		}
	}
	if name != "" {
		for _, e := range groups {
			id, ok := parseID(e[2])
			if !ok || id == u.GID {
				continue
			}
			for _, m := range strings.Split(e[3], ",") {
				if m == name {
					u.AdditionalGids = append(u.AdditionalGids, id)
					break
				}
			}
		}
	}
	return u, home, nil
}

// parseID accepts a decimal id below 2^32-1 (which is (uid_t)-1, "no
// change" to setresuid).
func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == math.MaxUint32 {
		return 0, false
	}
	return uint32(n), true
}

// parseDB splits a colon-separated database (passwd(5), group(5)) into
// entries of exactly fields fields, skipping comments and malformed lines.
func parseDB(data []byte, fields int) [][]string {
	var out [][]string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < fields {
			continue
		}
		out = append(out, f[:fields])
	}
	return out
}
