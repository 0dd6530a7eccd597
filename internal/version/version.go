// Package version says which release of Réso a binary is: the release
// number kept in the code (and in CHANGELOG.md), and the commit and date
// the Go toolchain stamps from git into the build information.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Release is the release this code is, or prepares: CHANGELOG.md has a
// section for it, and the git tag of the release is "v" + Release.
const Release = "0.2.0"

// Info is what a binary knows of its origin.
type Info struct {
	Version   string `json:"version"`    // "v" + Release
	Commit    string `json:"commit"`     // git revision, "unknown" when not stamped
	Date      string `json:"date"`       // commit date (RFC 3339), "" when not stamped
	Modified  bool   `json:"modified"`   // built from a tree with uncommitted changes
	GoVersion string `json:"go_version"` // toolchain
}

// Get reads the build information. Binaries built with `go build` in a git
// checkout carry the commit; others say "unknown".
func Get() Info {
	info := Info{Version: "v" + Release, Commit: "unknown", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.Date = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the one line `reso version` prints.
func (i Info) String() string {
	commit := i.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if i.Modified {
		commit += "+modified"
	}
	date := i.Date
	if date == "" {
		date = "unknown date"
	}
	return fmt.Sprintf("reso %s (commit %s, %s, %s)", i.Version, commit, date, i.GoVersion)
}
