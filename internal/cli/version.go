package cli

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// version describes this binary from its build info: the module version
// (a tag when installed with go install, "(devel)" when built from a
// checkout), the VCS revision and time, and whether the tree had changes.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build info)"
	}
	return versionOf(info)
}

func versionOf(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	var b strings.Builder
	b.WriteString(v)
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, " rev %.12s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " %s", t)
		}
		if settings["vcs.modified"] == "true" {
			b.WriteString(" (modified)")
		}
	}
	fmt.Fprintf(&b, " %s", info.GoVersion)
	return b.String()
}
