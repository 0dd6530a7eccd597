package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/backend"
)

// Run seeds the demo into b when its log is empty, issues one token per
// role, prints them to opts.Out and saves them in dir/TokensFile (mode
// 0600). When the log already has events it seeds nothing and prints the
// saved tokens again. It returns the seeding's or the file's error.
func Run(ctx context.Context, b *backend.Backend, svc *app.Service, dir string, opts Options) (Result, error) {
	head, err := b.Events.Head(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("demo: %w", err)
	}
	path := filepath.Join(dir, TokensFile)
	if !head.IsZero() {
		saved, err := os.ReadFile(path)
		switch {
		case err == nil:
			if opts.Out != nil {
				fmt.Fprintf(opts.Out, "The store already has events: no demo seeded. Saved demo tokens (%s):\n%s", path, saved)
			}
		case os.IsNotExist(err):
			if opts.Out != nil {
				fmt.Fprintf(opts.Out, "The store already has events and no %s: no demo seeded "+
					"(if an earlier seeding was interrupted, start again on an empty store).\n", path)
			}
		default:
			return Result{}, fmt.Errorf("demo tokens: %w", err)
		}
		return Result{}, nil
	}
	return seed(ctx, b, svc, path, opts)
}
