package app_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

func TestErase(t *testing.T) {
	t.Parallel()
	for _, by := range []struct {
		name  string
		in    app.EraseInput
		needs int // of the three captured below
	}{
		{"email", app.EraseInput{ContactEmail: " CAMILLE.Dupont@beffroi.fr"}, 2},
		{"siret", app.EraseInput{SIRET: "732 829 320 00074"}, 2},
	} {
		t.Run(by.name, func(t *testing.T) {
			t.Parallel()
			f := mustFixture(t, "sqlite")
			a := f.mustNeed(t, lille, f.refA)
			b := f.mustNeed(t, lille) // same contact, same company: same key
			other := capture(lille)
			other.SIRET = siret2
			other.Contact = app.Contact{Name: "Dominique Autre", Email: "dominique@autre.fr"}
			r, err := f.svc.CaptureNeed(ctx, f.advisor, other, app.CommandMeta{})
			if err != nil {
				t.Fatal(err)
			}
			res, pos, err := f.svc.Erase(ctx, f.admin, by.in, app.CommandMeta{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Keys != 1 || res.Needs != by.needs || pos.IsZero() {
				t.Errorf("erase = %+v at %v", res, pos)
			}
			for _, id := range []uuidT{a, b} {
				v, err := f.svc.GetNeed(ctx, f.admin, id, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !v.Contact.Erased || v.Contact.Email != "" || v.Contact.Name != "" {
					t.Errorf("need %s contact = %+v", id, v.Contact)
				}
				h, err := f.svc.History(ctx, f.admin, id)
				if err != nil {
					t.Fatal(err)
				}
				if last := h[len(h)-1]; last.Type != domain.TypeContactErased || h[0].Type != domain.TypeNeedCaptured {
					t.Errorf("history = %s ... %s", h[0].Type, last.Type)
				}
				if strings.Contains(string(h[0].Data), "camille") || !strings.Contains(string(h[0].Data), `"erased":true`) {
					t.Errorf("history capture = %s", h[0].Data)
				}
			}
			v, err := f.svc.GetNeed(ctx, f.admin, r.Need.ID, nil)
			if err != nil || v.Contact.Erased || v.Contact.Name != "Dominique Autre" {
				t.Errorf("other contact = %+v, %v", v.Contact, err)
			}
			// Erasing again finds nothing and appends nothing.
			again, _, err := f.svc.Erase(ctx, f.admin, by.in, app.CommandMeta{})
			if err != nil || again != (app.EraseResult{}) {
				t.Errorf("second erase = %+v, %v", again, err)
			}
			// No plaintext of the erased contact anywhere in the files.
			if _, err := f.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				t.Fatal(err)
			}
			assertFilesLack(t, filepath.Dir(f.dbPath), "Camille", "camille.dupont", "beffroi.fr", "03 20 00 00 00")
		})
	}
}

// assertFilesLack reads every file of dir (database, WAL, shm) byte by byte.
func assertFilesLack(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(s))) {
				t.Errorf("%s contains %q", e.Name(), s)
			}
		}
	}
}
