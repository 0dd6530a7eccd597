package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reso-fr/reso/internal/version"
)

// TestVersionCommand builds the real binary, as an operator does, and runs
// `reso version` and `reso --version`: both print the release and, from a
// git checkout, the commit the toolchain stamped.
func TestVersionCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "reso")
	// -buildvcs=auto: the environment may turn stamping off (GOFLAGS), and
	// releases are built with it on.
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	want := regexp.MustCompile(`^reso v` + regexp.QuoteMeta(version.Release) + ` \(commit ([0-9a-f]{12}(\+modified)?|unknown), [^,]+, go[^)]+\)\n$`)
	var lines []string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("reso %s: %v", args[0], err)
		}
		if !want.Match(out) {
			t.Fatalf("reso %s printed %q", args[0], out)
		}
		lines = append(lines, string(out))
	}
	if lines[0] != lines[1] {
		t.Errorf("version %q and --version %q differ", lines[0], lines[1])
	}
	if strings.Contains(lines[0], "commit unknown") {
		// The toolchain stamps nothing in some checkouts (a git worktree,
		// a tree without git): the release alone is then all there is.
		if fi, err := os.Stat("../../.git"); err == nil && fi.IsDir() {
			t.Errorf("a plain git checkout, yet no commit stamped: %q", lines[0])
		}
		return
	}
	if head, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		if !strings.Contains(lines[0], string(head[:12])) {
			t.Errorf("version %q does not name the commit %s", lines[0], head[:12])
		}
	}
}
