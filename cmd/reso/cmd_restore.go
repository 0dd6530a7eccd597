package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/reso-fr/reso/internal/backup"
)

func init() {
	register("restore", "install a backup FILE as the store of a stopped server (--force replaces an existing one)", runRestore)
}

func runRestore(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	cfg := storageFlags(fs)
	force := fs.Bool("force", false, "replace an existing store (SQLite: the current file is kept beside, renamed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	file, err := oneFile(fs, "restore")
	if err != nil {
		return err
	}
	res, err := backup.Restore(ctx, cfg(), file, *force)
	if err != nil {
		return err
	}
	fmt.Printf("restored %s into the %s store\n", res.File, res.Kind)
	if res.Replaced != "" {
		fmt.Printf("the store it replaced is kept as %s\n", res.Replaced)
	}
	if res.Rebased {
		fmt.Println("the backup came from a cluster ahead of this one: log positions renumbered, read models rebuilt")
	}
	fmt.Println("next: reso verify, then start the server")
	return nil
}
