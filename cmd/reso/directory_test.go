package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reso-fr/reso/internal/directoryfile"
)

// TestImportExportDirectoryCommands runs the two commands on an embedded
// store: a dry run writes nothing, an import writes the file, its export
// reads back to the same lines, and a file with an error fails the command.
func TestImportExportDirectoryCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	src, err := os.ReadFile("../../internal/e2e/testdata/bretagne.csv")
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "bretagne.csv")
	if err := os.WriteFile(in, src, 0o600); err != nil {
		t.Fatal(err)
	}
	exported := func(name string, extra ...string) []string {
		t.Helper()
		out := filepath.Join(dir, name)
		if err := run(ctx, append([]string{"export", "directory", out, "--data", data}, extra...)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		f, err := directoryfile.Parse(name, b)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, r := range f.Rows {
			emails = append(emails, r.Email)
		}
		return emails
	}
	if err := run(ctx, []string{"import", "directory", in, "--dry-run", "--data", data}); err != nil {
		t.Fatal(err)
	}
	if got := exported("after-dry-run.csv"); len(got) != 0 {
		t.Fatalf("a dry run wrote %d referents", len(got))
	}
	if err := run(ctx, []string{"import", "directory", "--data", data, "--by", "Test", in}); err != nil {
		t.Fatal(err)
	}
	if got := exported("all.xlsx"); len(got) != 45 {
		t.Fatalf("exported %d referents, want 45", len(got))
	}
	if got := exported("then.csv", "--as-of", "2000-01-01"); len(got) != 0 {
		t.Fatalf("the directory in 2000 had %d referents", len(got))
	}
	// The export imports back unchanged; a bad file fails the command.
	if err := run(ctx, []string{"import", "directory", filepath.Join(dir, "all.xlsx"), "--data", data, "--remove-missing"}); err != nil {
		t.Fatal(err)
	}
	if got := exported("again.csv"); len(got) != 45 {
		t.Fatalf("after the round trip, %d referents", len(got))
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(src), "35238, 35047", "35238, 35999", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"import", "directory", bad, "--data", data}); err == nil || !strings.Contains(err.Error(), "1 of 45 lines have errors") {
		t.Fatalf("bad file: %v", err)
	}
	for _, args := range [][]string{{"import", "directory"}, {"import", "directory", "a.csv", "b.csv"}, {"export", "directory", "x.ods"}} {
		if err := run(ctx, append(args, "--data", data)); err == nil {
			t.Errorf("reso %v: no error", args)
		}
	}
}
