package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/directoryfile"
)

func init() {
	register("import directory", "import a directory file FILE (.csv or .xlsx): [--dry-run] [--remove-missing]", runImportDirectory)
	register("export directory", "write the directory to FILE (.csv or .xlsx), as it stands or --as-of a past instant", runExportDirectory)
}

// parseWithFile parses flags given before or after the one FILE argument.
func parseWithFile(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return "", fmt.Errorf("%s: give the FILE", fs.Name())
	}
	file := rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("%s: one FILE only, got also %q", fs.Name(), fs.Args())
	}
	return file, nil
}

// operator is the command line's principal: an admin named after the
// account that runs it, the name an import's record keeps.
func operator(by string) app.Principal {
	if by == "" {
		by = "unknown"
		if u, err := user.Current(); err == nil {
			by = u.Username
		}
		if h, err := os.Hostname(); err == nil {
			by += "@" + h
		}
		by += " (reso import directory)"
	}
	return app.Principal{Role: domain.RoleAdmin, Name: by}
}

// openService opens the storage and a service on it, without running the
// projections: the directory is read from the log.
func openService(ctx context.Context, cfg backend.Config) (*backend.Backend, *app.Service, error) {
	b, err := backend.Open(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	svc, err := app.New(app.Config{Store: b.Events, Keys: b.Keys, Auth: b.Auth, ReadModels: b.Projections})
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return b, svc, nil
}

func runImportDirectory(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import directory", flag.ContinueOnError)
	cfg := storageFlags(fs)
	dry := fs.Bool("dry-run", false, "report what the import would do, write nothing")
	remove := fs.Bool("remove-missing", false, "deactivate the referents of the file's organisations that it no longer lists")
	by := fs.String("by", "", "who imports, as the import's record names them (default: user@host)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	b, svc, err := openService(ctx, cfg())
	if err != nil {
		return err
	}
	defer b.Close()
	start := time.Now()
	rep, err := svc.ImportDirectory(ctx, operator(*by), app.ImportInput{
		FileName: filepath.Base(file), Data: data, DryRun: *dry, RemoveMissing: *remove,
	})
	if rep != nil {
		if *asJSON {
			if werr := printJSON(rep); werr != nil {
				return werr
			}
		} else {
			writeReport(os.Stdout, rep, time.Since(start))
		}
	}
	if err != nil {
		return err
	}
	if rep.Totals.Errors > 0 {
		return fmt.Errorf("%s: %d lines have errors", file, rep.Totals.Errors)
	}
	return nil
}

// writeReport prints an import's report: the lines that change or fail,
// the missing referents, the totals.
func writeReport(w io.Writer, rep *app.ImportReport, took time.Duration) {
	for _, l := range rep.Lines {
		switch l.Status {
		case "unchanged":
			continue
		case "error":
			for _, e := range l.Errors {
				fmt.Fprintf(w, "line %d  error      %-30s %s: %s\n", l.Line, l.Email, e.Column, e.Reason)
			}
		default:
			fmt.Fprintf(w, "line %d  %-10s %-30s %s\n", l.Line, l.Status, l.Email, strings.Join(l.Changes, ", "))
		}
	}
	for _, m := range rep.Missing {
		what := "missing (kept; --remove-missing deactivates)"
		if m.Removed {
			what = "removed"
		}
		fmt.Fprintf(w, "%s <%s> of %s: %s\n", m.Name, m.Email, m.Organisation, what)
	}
	t := rep.Totals
	fmt.Fprintf(w, "%s (%s, %s headers): %d lines: %d created, %d updated, %d unchanged, %d errors; %d missing, %d removed; %d organisations and %d antennes created; %d events",
		rep.FileName, rep.Format, rep.Headers, t.Lines, t.Created, t.Updated, t.Unchanged, t.Errors, t.Missing, t.Removed,
		t.OrganisationsCreated, t.AntennesCreated, t.Events)
	switch {
	case rep.Written:
		fmt.Fprintf(w, " written in %s (import %s)\n", took.Round(time.Millisecond), rep.ImportID)
	case rep.DryRun:
		fmt.Fprintln(w, "; dry run: nothing written")
	case t.Errors > 0:
		fmt.Fprintln(w, "; nothing written: correct the errors and import again")
	default:
		fmt.Fprintln(w, "; nothing to write")
	}
}

func runExportDirectory(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export directory", flag.ContinueOnError)
	cfg := storageFlags(fs)
	asOf := fs.String("as-of", "", "the directory as it stood then (RFC 3339, or a date YYYY-MM-DD: its end, in Paris)")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	format, err := directoryfile.FormatOf(file)
	if err != nil {
		return err
	}
	var at *time.Time
	if *asOf != "" {
		t, err := parseAsOf(*asOf)
		if err != nil {
			return err
		}
		at = &t
	}
	b, svc, err := openService(ctx, cfg())
	if err != nil {
		return err
	}
	defer b.Close()
	data, err := svc.ExportDirectory(ctx, operator(""), format, at)
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "wrote %s (%d bytes)\n", file, len(data))
	return nil
}

// parseAsOf reads an instant, or a date meaning the end of that day in
// Paris.
func parseAsOf(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.Time{}, err
	}
	d, err := time.ParseInLocation(time.DateOnly, s, paris)
	if err != nil {
		return time.Time{}, errors.New("--as-of: an RFC 3339 instant or a date YYYY-MM-DD")
	}
	return d.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
}
