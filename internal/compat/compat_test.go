package compat

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/testwait"
	"github.com/reso-fr/reso/internal/verify"
	"github.com/reso-fr/reso/projections"
)

// TestReleasesOpen opens each release directory of testdata/releases with
// today's code and asks its probes again: every status must match and
// every field the release answered must come back with the same value.
func TestReleasesOpen(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("testdata", "releases", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no release directory in testdata/releases")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			var rel release
			mustReadJSON(t, filepath.Join(dir, expectedFile), &rel)
			if len(rel.Probes) == 0 {
				t.Fatalf("%s: no probe", dir)
			}
			// Opening migrates the file: work on a copy.
			data := mustCopyDir(t, dir)
			// The release kept its contact keys in clear: the first start
			// with a master key wraps them.
			srv, base := mustServe(t, server.Config{DataDir: data, MasterKeys: []*keys.Master{mustMaster(t)}})
			tok := tokens(t, data)
			// The read models as the release left them, then as today's
			// code folds the release's log: the same states and figures.
			checkProbes(t, base, tok, rel.Probes)
			// Today's read models may have a newer schema than the
			// release's: the server rebuilds them at its start. Once they
			// have reached the log's head, rebuild them all again.
			head, err := srv.Backend().Events.Head(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Backend().Projections.WaitFor(context.Background(), head); err != nil {
				t.Fatal(err)
			}
			// The start-up rebuild may still be swapping its tables in
			// (reaching the head does not end it): wait for its end.
			testwait.MustEventually(t, 2*time.Minute, func() error {
				err := srv.Backend().Projections.RebuildAll(context.Background(), nil)
				if err != nil && !errors.Is(err, projections.ErrRebuildRunning) {
					t.Fatal(err)
				}
				return err
			})
			checkProbes(t, base, tok, rel.Probes)
			// Today's checks of the log hold on the release's.
			r, err := verify.Log(context.Background(), srv.Backend().Events, verify.LogOptions{DensePositions: true})
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK() || r.Events != int64(rel.Events) || r.Needs != rel.Needs {
				t.Errorf("verify: %d events, %d needs (release: %d, %d); problems %q", r.Events, r.Needs, rel.Events, rel.Needs, r.Problems)
			}
		})
	}
}

// checkProbes asks every probe again and reports what changed.
func checkProbes(t *testing.T, base string, tok map[string]string, probes []probe) {
	t.Helper()
	for _, p := range probes {
		status, body := get(t, base, tok[p.Role], p.Path)
		if status != p.Status {
			t.Errorf("GET %s as %s = %d, was %d: %s", p.Path, p.Role, status, p.Status, body)
			continue
		}
		var old, now any
		if err := json.Unmarshal(p.Body, &old); err != nil {
			t.Fatalf("%s: expected body: %v", p.Path, err)
		}
		if err := json.Unmarshal(body, &now); err != nil {
			t.Errorf("GET %s: %v", p.Path, err)
			continue
		}
		for _, d := range contains("", old, now) {
			t.Errorf("GET %s: %s", p.Path, d)
		}
	}
}

func mustReadJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// mustCopyDir copies the files of dir into a new temporary directory.
func mustCopyDir(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == expectedFile {
			continue
		}
		src, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.OpenFile(filepath.Join(out, e.Name()), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
