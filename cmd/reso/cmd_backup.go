package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/reso-fr/reso/internal/backup"
)

func init() {
	register("backup", "write a consistent copy of the store to FILE while the server runs (SQLite: VACUUM INTO; PostgreSQL: pg_dump)", runBackup)
}

// oneFile returns the single FILE argument of fs.
func oneFile(fs *flag.FlagSet, name string) (string, error) {
	if fs.NArg() != 1 {
		return "", fmt.Errorf("%s: give one FILE (reso %s [flags] FILE)", name, name)
	}
	return fs.Arg(0), nil
}

func runBackup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	cfg := storageFlags(fs)
	printOnly := fs.Bool("print-command", false, "PostgreSQL: print the pg_dump command instead of running it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	file, err := oneFile(fs, "backup")
	if err != nil {
		return err
	}
	c := cfg()
	if *printOnly {
		if c.DatabaseURL == "" {
			return errors.New("backup: --print-command is for a PostgreSQL store (--database-url)")
		}
		argv, err := backup.DumpCommand(c.DatabaseURL, file)
		if err != nil {
			return err
		}
		fmt.Println(strings.Join(argv, " "))
		return nil
	}
	res, err := backup.Backup(ctx, c, file)
	if err != nil {
		return err
	}
	fmt.Printf("backed up the %s store to %s (%d bytes)\n", res.Kind, res.File, res.Bytes)
	return nil
}
