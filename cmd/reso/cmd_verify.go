package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/reso-fr/reso/internal/verify"
)

func init() {
	register("verify", "check the store: every stream refolds, versions and global order have no hole, read models equal a rebuild (exit 1 otherwise)", runVerify)
}

func runVerify(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	cfg := storageFlags(fs)
	logOnly := fs.Bool("log-only", false, "check the log only, not the read models")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, done, err := verify.Open(ctx, cfg())
	if err != nil {
		return err
	}
	defer done()
	var shown int64
	r, err := verify.Run(ctx, b, verify.Options{LogOnly: *logOnly, Progress: func(n int64) {
		if n/100000 > shown {
			shown = n / 100000
			fmt.Fprintf(os.Stderr, "%d events read\n", n)
		}
	}})
	if err != nil {
		return err
	}
	r.Write(os.Stdout)
	if !r.OK() {
		return fmt.Errorf("verify: %d problems found", len(r.Problems)+r.Omitted)
	}
	return nil
}
