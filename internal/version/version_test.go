package version

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestChangelogHasTheRelease fails when CHANGELOG.md has no section for the
// release in the code, so a version bump cannot forget its notes.
func TestChangelogHasTheRelease(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	heading := regexp.MustCompile(`^## \[(\d+\.\d+\.\d+)\]`)
	var releases []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := heading.FindStringSubmatch(sc.Text()); m != nil {
			releases = append(releases, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(releases) == 0 || releases[0] != Release {
		t.Fatalf("CHANGELOG.md's newest section is %v, want [%s] first", releases, Release)
	}
}

func TestInfoString(t *testing.T) {
	t.Parallel()
	i := Info{Version: "v1.2.3", Commit: "0123456789abcdef", Date: "2026-12-07T10:00:00Z", Modified: true, GoVersion: "go1.26"}
	if got := i.String(); got != "reso v1.2.3 (commit 0123456789ab+modified, 2026-12-07T10:00:00Z, go1.26)" {
		t.Fatalf("%q", got)
	}
	g := Get()
	if g.Version != "v"+Release || g.GoVersion == "" || g.Commit == "" {
		t.Fatalf("Get() = %+v", g)
	}
	if !strings.HasPrefix(g.String(), "reso v"+Release+" (commit ") {
		t.Fatalf("%q", g.String())
	}
}
