package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/sflist"
)

func init() {
	register("import signaux-faibles", "import a Signaux Faibles list (CSV or JSON) as an admin (token in RESO_TOKEN)", runImportSignauxFaibles)
}

// adminToken is the token the command acts with: RESO_TOKEN, or the
// configured admin's RESO_ADMIN_TOKEN. Tokens come from the environment,
// never from flags, which other users of the machine can read.
func adminToken() (string, error) {
	for _, k := range []string{"RESO_TOKEN", "RESO_ADMIN_TOKEN"} {
		if v := os.Getenv(k); v != "" {
			return v, nil
		}
	}
	return "", errors.New("set RESO_TOKEN to the API token of an admin: the import is recorded in their name")
}

func runImportSignauxFaibles(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import signaux-faibles", flag.ContinueOnError)
	cfg := storageFlags(fs)
	label := fs.String("list", "", `the list's label (default: its month, e.g. "Mars 2026")`)
	period := fs.String("period", "", "the list's month, YYYY-MM (default: the lines' periode)")
	skip := fs.Bool("skip-invalid", false, "import the valid lines of a file with refused ones (default: a refused line imports nothing)")
	format := fs.String("format", "", "csv or json (default: from the file's extension, else its first byte)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: reso import signaux-faibles [flags] FILE\n\nflags:")
		fs.PrintDefaults()
	}
	// Flags may follow the file, as operators type them.
	var file string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		if file != "" {
			return fmt.Errorf("import signaux-faibles: one FILE, got %q and %q", file, fs.Arg(0))
		}
		file, rest = fs.Arg(0), fs.Args()[1:]
	}
	if file == "" {
		fs.Usage()
		return errors.New("import signaux-faibles: FILE missing")
	}
	data, err := readListFile(file)
	if err != nil {
		return err
	}
	if *format == "" {
		*format = string(sflist.FormatOfFile(file, data))
	}
	token, err := adminToken()
	if err != nil {
		return err
	}
	b, err := backend.Open(ctx, cfg())
	if err != nil {
		return err
	}
	defer b.Close()
	svc, err := app.New(app.Config{Store: b.Events, Keys: b.Keys, Auth: b.Auth, ReadModels: b.Projections})
	if err != nil {
		return err
	}
	p, err := svc.Authenticate(ctx, token)
	if err != nil {
		return fmt.Errorf("RESO_TOKEN: %w", err)
	}
	res, err := svc.ImportSignauxFaibles(ctx, p, app.SFImportInput{Data: data, Format: *format, Label: *label, Period: *period, SkipInvalid: *skip}, app.CommandMeta{})
	var rejected *app.SFRejectedError
	if errors.As(err, &rejected) {
		printRejected(os.Stderr, rejected.Rejected, rejected.Count)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(res)
	}
	printRejected(os.Stderr, res.Rejected, res.RejectedCount)
	verb := "imported"
	if res.Unchanged {
		verb = "already imported as is: nothing changed"
	}
	fmt.Printf("%s (%s): %s\n  %d lines read: %d with an alert (F1 %d, F2 %d), %d without alert, %d refused\n  import %s of list %s\n",
		res.Label, res.Period, verb, res.Read, res.Lines, res.F1, res.F2, res.WithoutAlert, res.RejectedCount, res.ImportID, res.ListID)
	return nil
}

// readListFile reads a list file ("-": standard input), refusing more
// than app.MaxSFListBytes.
func readListFile(name string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, app.MaxSFListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > app.MaxSFListBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, app.MaxSFListBytes)
	}
	return data, nil
}

// printRejected lists refused lines for the operator.
func printRejected(w io.Writer, rs []app.SFRejected, count int) {
	for _, r := range rs {
		fmt.Fprintf(w, "line %d: %s\n", r.Line, r.Reason)
	}
	if count > len(rs) {
		fmt.Fprintf(w, "… and %d more refused lines\n", count-len(rs))
	}
}
