package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/keys"
	"github.com/reso-fr/reso/internal/server"
	"github.com/reso-fr/reso/internal/servertest"
	"github.com/reso-fr/reso/internal/testwait"
	"github.com/reso-fr/reso/internal/websession"
)

// startServer runs a server on dir with the masters until stop.
func startServer(t *testing.T, dir, token string, masters ...*keys.Master) (srv *server.Server, stop func(), err error) {
	t.Helper()
	return servertest.TryStart(t, server.Config{Addr: "127.0.0.1:0", DataDir: dir, AdminToken: token, MasterKeys: masters,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// stdout runs f with os.Stdout captured.
func stdout(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	ferr := f()
	os.Stdout = old
	w.Close()
	return string(<-done), ferr
}

// reso keys generate and rotate: a store's contact keys move to a new
// master key, after which the new one alone opens every contact and the old
// one alone is refused at start; reso users link prints a sign-in link that
// works once, and refuses an unknown email.
func TestKeysRotateAndUsersLinkCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var tok [32]byte
	_, _ = rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	oldFile, newFile := filepath.Join(t.TempDir(), "old.key"), filepath.Join(t.TempDir(), "new.key")
	for _, f := range []string{oldFile, newFile} {
		if _, err := stdout(t, func() error { return run(ctx, []string{"keys", "generate", f}) }); err != nil {
			t.Fatal(err)
		}
	}
	oldM, err := keys.LoadMasterFile(oldFile)
	if err != nil {
		t.Fatal(err)
	}
	newM, err := keys.LoadMasterFile(newFile)
	if err != nil {
		t.Fatal(err)
	}

	// A store with a user and a need whose contact is sealed under the old
	// master.
	srv, stop, err := startServer(t, dir, token, oldM)
	if err != nil {
		t.Fatal(err)
	}
	svc := srv.Service()
	admin, err := svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	org, _, err := svc.CreateOrganisation(ctx, admin, "CCI Test", "cci", app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	advisorID, _, _, err := svc.RegisterUser(ctx, admin, app.UserInput{Name: "Adèle Conseil", Email: "adele@cci.test", Role: domain.RoleAdvisor, OrganisationID: org}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	advisor, err := svc.PrincipalOfUser(ctx, advisorID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.CaptureNeed(ctx, advisor, app.CaptureInput{SIRET: "73282932000074", CompanyName: "Boulangerie", Commune: "59350",
		Subject: "recruitment", Description: "Recruter", Contact: app.Contact{Name: "Camille Dupont", Email: "camille@example.fr"}}, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, testwait.Scale(30*time.Second))
	defer wcancel()
	if err := srv.Backend().Projections.WaitFor(wctx, res.Position); err != nil {
		t.Fatal(err)
	}
	needID := res.Need.ID
	stop()

	// users link
	out, err := stdout(t, func() error {
		return run(ctx, []string{"users", "link", "--data", dir, "--base-url", "https://reso.example", "adele@cci.test"})
	})
	if err != nil {
		t.Fatalf("users link: %v", err)
	}
	u, err := url.Parse(strings.TrimSpace(out))
	if err != nil || u.Host != "reso.example" || u.Query().Get("jeton") == "" {
		t.Fatalf("users link printed %q", out)
	}
	if _, err := stdout(t, func() error { return run(ctx, []string{"users", "link", "--data", dir, "personne@nulle-part.test"}) }); err == nil || !strings.Contains(err.Error(), "no user has the email") {
		t.Errorf("unknown email: %v", err)
	}
	b, err := backend.Open(ctx, backend.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := websession.New(ctx, b.DB, websession.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if who, err := sessions.ConsumeLink(ctx, u.Query().Get("jeton")); err != nil || who != advisorID {
		t.Errorf("the printed link signs in %v (%v), want %v", who, err, advisorID)
	}
	if _, err := sessions.ConsumeLink(ctx, u.Query().Get("jeton")); !errors.Is(err, websession.ErrLinkUsed) {
		t.Errorf("the link worked twice: %v", err)
	}
	b.Close()

	// keys rotate
	if _, err := stdout(t, func() error { return run(ctx, []string{"keys", "rotate", "--data", dir, "--master-key-file", newFile}) }); err == nil {
		t.Error("a rotation without the previous master key was accepted")
	}
	out, err = stdout(t, func() error {
		return run(ctx, []string{"keys", "rotate", "--data", dir, "--master-key-file", newFile, "--previous-master-key-file", oldFile})
	})
	if err != nil || !strings.Contains(out, "rotated: 1 keys re-wrapped") {
		t.Fatalf("keys rotate: %q, %v", out, err)
	}
	if _, _, err := startServer(t, dir, token, oldM); err == nil {
		t.Fatal("a server started with the replaced master key")
	}
	srv, stop, err = startServer(t, dir, token, newM)
	if err != nil {
		t.Fatal(err)
	}
	svc = srv.Service()
	defer stop()
	n, err := svc.GetNeed(ctx, advisor, needID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.Contact == nil || n.Contact.Email != "camille@example.fr" {
		t.Errorf("contact after the rotation: %+v", n.Contact)
	}
}
