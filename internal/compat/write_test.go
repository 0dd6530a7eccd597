package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/demo"
	"github.com/reso-fr/reso/internal/server"
)

var writeRelease = flag.String("write-release", "", "write a release directory there (see the package comment) instead of skipping")

// TestWriteRelease writes a release directory with the code it runs on: a
// demo network (8 days of needs), a need captured through the API and its
// contact erased, then the answers of the API to every probe. It is not a
// test: it runs only with -write-release.
func TestWriteRelease(t *testing.T) {
	if *writeRelease == "" {
		t.Skip("set -write-release=DIR to write a release directory")
	}
	dir, err := filepath.Abs(*writeRelease)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("%s exists: a release directory is written once", dir)
	}
	cfg := server.Config{DataDir: dir, Demo: true}
	// Four days of March: about 40 needs, a small file.
	cfg.DemoOptions = demo.Options{Seed: 19, Months: 1, Now: time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC), Out: os.Stderr}
	srv, base := mustServe(t, cfg)
	tok := tokens(t, dir)

	// What the simulation does not write: a capture through the API, and
	// an erasure (ContactErased, its key deleted).
	var need struct {
		ID string `json:"id"`
	}
	capture := map[string]any{
		"siret": "73282932000074", "company_name": "Boulangerie du Beffroi", "commune": "59350", "subject": "recruitment",
		"description": "Recruter deux boulangers",
		"contact":     map[string]string{"name": "Camille Dupont", "email": "camille.compat@example.fr", "phone": "0320000000"},
	}
	if err := json.Unmarshal(send(t, base, tok["advisor"], "POST", "/api/needs", capture, http.StatusCreated), &need); err != nil {
		t.Fatal(err)
	}
	send(t, base, tok["advisor"], "POST", "/api/needs/"+need.ID+"/comments", map[string]string{"text": "Rappeler lundi"}, http.StatusOK)
	send(t, base, tok["admin"], "POST", "/api/erasures", map[string]string{"contact_email": "camille.compat@example.fr"}, http.StatusOK)
	// Four days hold neither closed matches nor reminders nor abandons:
	// an admin writes some on the simulated needs.
	taken := needsWith(t, base, tok["admin"], "taking_care")
	waiting := needsWith(t, base, tok["admin"], "quo")
	if len(taken) < 4 || len(waiting) < 1 {
		t.Fatalf("%d needs taken in charge, %d waiting", len(taken), len(waiting))
	}
	for i, action := range []string{"done", "done_no_help", "done_not_reachable", "done"} {
		id, referent := taken[i][0], taken[i][1]
		send(t, base, tok["admin"], "POST", "/api/needs/"+id+"/matches/"+referent, map[string]string{"action": action, "comment": "Clôturé"}, http.StatusOK)
	}
	send(t, base, tok["admin"], "POST", "/api/needs/"+taken[3][0]+"/matches/"+taken[3][1], map[string]string{"action": "reopen"}, http.StatusOK)
	for _, kind := range []string{"poke", "last_chance"} {
		send(t, base, tok["admin"], "POST", "/api/needs/"+waiting[0][0]+"/reminders", map[string]string{"kind": kind}, http.StatusOK)
	}
	send(t, base, tok["admin"], "POST", "/api/needs/"+waiting[0][0]+"/abandon", map[string]string{"reason": "Entreprise fermée"}, http.StatusOK)
	mustCatchUp(t, srv)

	rel := release{Release: releaseName(t), Command: "go test ./internal/compat -run TestWriteRelease -write-release=" + *writeRelease}
	evs, err := srv.Backend().Events.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	rel.Events = len(evs)
	paths := []probe{
		{Role: "funder", Path: "/api/stats"},
		{Role: "funder", Path: "/api/stats?group_by=month,departement,organisation,subject"},
		{Role: "funder", Path: "/api/stats?group_by=region,subject"},
	}
	for _, e := range evs {
		if e.Type != domain.TypeNeedCaptured {
			continue
		}
		rel.Needs++
		_, id, _ := domain.ParseStream(e.StreamID)
		paths = append(paths, probe{Role: "admin", Path: "/api/needs/" + id.String()},
			probe{Role: "admin", Path: "/api/needs/" + id.String() + "/history"})
	}
	for _, p := range paths {
		status, body := get(t, base, tok[p.Role], p.Path)
		if status != http.StatusOK {
			t.Fatalf("GET %s = %d: %s", p.Path, status, body)
		}
		p.Status, p.Body = status, body
		rel.Probes = append(rel.Probes, p)
	}
	out := mustEncode(t, rel)
	// Stop the server (its checkpoint folds the WAL into reso.db) before
	// writing the answers.
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, expectedFile), out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d events, %d needs, %d probes", dir, rel.Events, rel.Needs, len(rel.Probes))
}

// needsWith returns, for needs of the read model in status, the need's id
// and the id of a referent whose match is in that status.
func needsWith(t *testing.T, base, token, status string) [][2]string {
	code, body := get(t, base, token, "/api/needs?limit=100&status="+status)
	if code != http.StatusOK {
		t.Fatalf("list %s: %d %s", status, code, body)
	}
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for _, it := range page.Items {
		_, body := get(t, base, token, "/api/needs/"+it.ID)
		var n struct {
			Matches []struct {
				ReferentID string `json:"referent_id"`
				Status     string `json:"status"`
			} `json:"matches"`
		}
		if err := json.Unmarshal(body, &n); err != nil {
			t.Fatal(err)
		}
		for _, m := range n.Matches {
			if m.Status == status {
				out = append(out, [2]string{it.ID, m.ReferentID})
				break
			}
		}
	}
	return out
}

// mustEncode writes rel as JSON with one probe a line, so that a diff of
// two releases' answers reads probe by probe.
func mustEncode(t *testing.T, rel release) []byte {
	probes := rel.Probes
	rel.Probes = nil
	head, err := json.MarshalIndent(rel, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.Write(head[:len(head)-2]) // without "\n}"
	b.WriteString(",\n \"probes\": [\n")
	for i, p := range probes {
		line, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("  ")
		b.Write(line)
		if i < len(probes)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(" ]\n}\n")
	if !json.Valid(b.Bytes()) {
		t.Fatal("expected.json: invalid JSON")
	}
	return b.Bytes()
}

// releaseName names the code running: the date and the commit.
func releaseName(t *testing.T) string {
	out, err := exec.Command("git", "log", "-1", "--format=%cs %h").Output()
	if err != nil {
		t.Fatalf("git log: %v", err)
	}
	return strings.TrimSpace(string(out))
}
