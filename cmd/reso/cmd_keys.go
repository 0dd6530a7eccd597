package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/reso-fr/reso/internal/backend"
	"github.com/reso-fr/reso/internal/keys"
)

func init() {
	register("keys rotate", "re-wrap every contact key under a new master key, while servers run (see docs/security.md)", runKeysRotate)
	register("keys generate", "write a new master key to a file (mode 0600)", runKeysGenerate)
}

func runKeysRotate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	cfg := storageFlags(fs)
	masters := masterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	mks, err := masters()
	if err != nil {
		return err
	}
	if len(mks) != 2 {
		return fmt.Errorf("keys rotate needs the new master key (--master-key-file or RESO_MASTER_KEY) and the current one (--previous-master-key-file or RESO_MASTER_KEY_PREVIOUS)")
	}
	c := cfg()
	c.Masters = mks
	b, err := backend.Open(ctx, c)
	if err != nil {
		return err
	}
	defer b.Close()
	res, err := b.Keys.Rotate(ctx, func(done int) { fmt.Fprintf(os.Stderr, "re-wrapped %d keys\n", done) })
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "rotated: %d keys re-wrapped, master key %s replaced by %s\n", res.Keys, res.From, res.To)
	return nil
}

func runKeysGenerate(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("keys generate", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: reso keys generate FILE")
	}
	m, err := keys.GenerateMasterFile(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "wrote master key %s to %s (mode 0600): keep it out of the database's backups\n", m.ID(), fs.Arg(0))
	return nil
}
