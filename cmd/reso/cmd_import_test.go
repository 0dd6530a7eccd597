package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
)

// reso import signaux-faibles records a list in the admin's name; a file
// with a refused line imports nothing unless --skip-invalid; the same file
// again changes nothing.
func TestImportSignauxFaiblesCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	token := strings.Repeat("a1", 16)
	b, err := backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	adminID, err := b.Auth.EnsureAdmin(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()

	file := filepath.Join(dir, "mars.csv")
	bad := "siren;score;alert\n732829320;0,9;F1\n732829321;0,5;F2\n"
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	imp := func(extra ...string) error {
		return run(ctx, append([]string{"import", "signaux-faibles", file, "--data", dir, "--period", "2026-03"}, extra...))
	}
	t.Setenv("RESO_TOKEN", "")
	t.Setenv("RESO_ADMIN_TOKEN", "")
	if err := imp(); err == nil || !strings.Contains(err.Error(), "RESO_TOKEN") {
		t.Fatalf("without a token: %v", err)
	}
	t.Setenv("RESO_TOKEN", token)
	var rejected *app.SFRejectedError
	if err := imp(); !errors.As(err, &rejected) || rejected.Count != 1 {
		t.Fatalf("a refused line: %v", err)
	}
	if err := imp("--skip-invalid", "--list", "Mars 2026 (DGE)"); err != nil {
		t.Fatal(err)
	}
	if err := imp("--skip-invalid", "--list", "Mars 2026 (DGE)", "--json"); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"import", "signaux-faibles", "--data", dir}); err == nil {
		t.Fatal("no file accepted")
	}

	b, err = backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	raw, err := b.Events.ReadStream(ctx, domain.SFListStream(domain.SFListID("2026-03")), 1, 0)
	if err != nil || len(raw) != 2 {
		t.Fatalf("list stream: %d events, %v", len(raw), err)
	}
	e, err := domain.Unmarshal(raw[0].Type, raw[0].SchemaVersion, raw[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	head := e.(domain.SignauxFaiblesListImported)
	if head.By.ID != adminID || head.Label != "Mars 2026 (DGE)" || head.Lines != 1 {
		t.Fatalf("import %+v", head)
	}
}
