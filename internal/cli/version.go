package cli

import (
	"runtime/debug"
	"strings"
)

// Version says which build this is: stamped, when the release sets one
// with -ldflags "-X main.version=…", or else read from what the Go
// toolchain records in every binary built from a checkout (the module's
// version, the VCS revision and time, and whether the tree had changes).
// An operator asking "what is running?" gets an answer that names a
// commit either way.
func Version(stamped string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return stamped
	}
	return describe(stamped, info)
}

func describe(stamped string, info *debug.BuildInfo) string {
	v := stamped
	if v == "" || v == "dev" {
		v = info.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v + " (" + info.GoVersion + ")"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	parts := []string{"revision " + rev}
	if at != "" {
		parts = append(parts, at)
	}
	if modified {
		parts = append(parts, "with uncommitted changes")
	}
	parts = append(parts, info.GoVersion)
	return v + " (" + strings.Join(parts, ", ") + ")"
}
