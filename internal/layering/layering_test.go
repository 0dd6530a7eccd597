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
				"projections/signaux", "projections/query", "projections/readmodels", "internal/"}},
		{"read models depend neither on their wiring nor on internal/",
			[]string{"projections/directory", "projections/needs", "projections/stats", "projections/needfold",
				"projections/signaux"},
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

// imports returns the packages pkg imports itself (test files left out).
func imports(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, module+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// The doors — the JSON API and the console — decode, call internal/app and
// encode: they import neither the read models nor any store, so every read
// and command goes through the one door where roles and scopes are decided.
func TestDoorsGoThroughApp(t *testing.T) {
	t.Parallel()
	forbidden := []string{"projections", "eventstore/memory", "eventstore/sqlite", "eventstore/postgres",
		"eventstore/kurrentdb", "sqldb", "internal/backend", "internal/keys", "internal/auth"}
	for _, door := range []string{"internal/httpapi", "internal/console"} {
		for _, imp := range imports(t, door) {
			for _, f := range forbidden {
				if imp == module+f || strings.HasPrefix(imp, module+f+"/") {
					t.Errorf("%s imports %s", door, strings.TrimPrefix(imp, module))
				}
			}
		}
	}
}
