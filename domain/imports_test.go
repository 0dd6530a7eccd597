package domain

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsArePure fails when a non-test file of domain/ (or of a package
// under it) imports anything but the standard library and uuid: the domain
// does no I/O through third parties and stays easy to reuse.
func TestImportsArePure(t *testing.T) {
	t.Parallel()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if !allowedImport(p) {
				t.Errorf("%s imports %q: domain/ may import only the standard library and github.com/google/uuid", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("checked only %d files: is the test running in domain/?", checked)
	}
}

// allowedImport: the standard library's paths have no dot in their first
// element.
func allowedImport(p string) bool {
	if p == "github.com/google/uuid" {
		return true
	}
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}

func TestAllowedImport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"fmt", true},
		{"encoding/json", true},
		{"github.com/google/uuid", true},
		{"github.com/jackc/pgx/v5", false},
		{"github.com/reso-fr/reso/eventstore", false},
		{"golang.org/x/text", false},
		{"modernc.org/sqlite", false},
	} {
		if got := allowedImport(tc.path); got != tc.want {
			t.Errorf("allowedImport(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
