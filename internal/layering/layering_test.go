package layering

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/reso-fr/reso/"

// deps returns the packages pkg depends on, directly or not (go list -deps,
// test files left out), as import paths.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}}", module+pkg).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, msg)
	}
	return strings.Fields(string(out))
}

// Each rule names packages and the packages (a path, or a prefix ending
// with /) none of them may depend on, directly or through others.
func TestDependenciesPointDown(t *testing.T) {
	t.Parallel()
	rules := []struct {
		name      string
		pkgs      []string
		forbidden []string
	}{
		{"store adapters, their conformance suite and the SQL packages import nothing under internal/",
			[]string{"eventstore/memory", "eventstore/sqlite", "eventstore/postgres", "eventstore/kurrentdb",
				"eventstore/eventstoretest", "sqldb", "sqlmigrate"},
			[]string{"internal/"}},
		{"the backend does not reach the HTTP API",
			[]string{"internal/backend"},
			[]string{"internal/httpapi"}},
		{"the projections runtime knows no read model",
			[]string{"projections"},
			[]string{"projections/directory", "projections/needs", "projections/stats", "projections/needfold",
				"projections/query", "projections/readmodels", "internal/"}},
		{"read models depend neither on their wiring nor on internal/",
			[]string{"projections/directory", "projections/needs", "projections/stats", "projections/needfold"},
			[]string{"projections/readmodels", "internal/"}},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			for _, pkg := range r.pkgs {
				for _, d := range deps(t, pkg) {
					for _, f := range r.forbidden {
						if d == module+f || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, module+f)) ||
							strings.HasPrefix(d, module+f+"/") {
							t.Errorf("%s depends on %s", pkg, strings.TrimPrefix(d, module))
						}
					}
				}
			}
		})
	}
}
