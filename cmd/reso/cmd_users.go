package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/websession"
)

func init() {
	register("users link", "print a one-time sign-in link to the console for a user's email (valid 15 minutes, used once)", runUsersLink)
}

func runUsersLink(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("users link", flag.ContinueOnError)
	data := fs.String("data", serveEnv("RESO_DATA", "./reso-data"), "data directory of the embedded SQLite store (env RESO_DATA)")
	dbURL := fs.String("database-url", os.Getenv("RESO_DATABASE_URL"), "postgres:// URL (env RESO_DATABASE_URL)")
	esURL := fs.String("eventstore-url", os.Getenv("RESO_EVENTSTORE_URL"), "kurrentdb:// URL for the log (env RESO_EVENTSTORE_URL)")
	base := fs.String("base-url", serveEnv("RESO_BASE_URL", "http://localhost:8080"), "the console's public address (env RESO_BASE_URL)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: reso users link [flags] EMAIL")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("users link: give one email")
	}
	b, err := backend.Open(ctx, backend.Config{DataDir: *data, DatabaseURL: *dbURL, EventStoreURL: *esURL})
	if err != nil {
		return err
	}
	defer b.Close()
	svc, err := app.New(app.Config{Store: b.Events, Keys: b.Keys, Auth: b.Auth, ReadModels: b.Projections})
	if err != nil {
		return err
	}
	u, err := svc.UserByEmail(ctx, fs.Arg(0))
	if errors.Is(err, app.ErrNotFound) {
		return fmt.Errorf("users link: no user has the email %q (a user registered a moment ago appears once the server's read models have caught up)", fs.Arg(0))
	}
	if err != nil {
		return err
	}
	sessions, err := websession.New(ctx, b.DB, websession.Options{})
	if err != nil {
		return err
	}
	tok, exp, err := sessions.IssueLink(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Sign-in link for %s (%s), valid until %s, usable once:\n", u.Name, u.Role, exp.Local().Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintln(os.Stdout, websession.LinkURL(*base, tok))
	return nil
}
