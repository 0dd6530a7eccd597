package main

import (
	"context"
	"fmt"
	"os"

	"github.com/reso-fr/reso/internal/version"
)

func init() {
	register("version", "print the release, the commit and its date (also reso --version)", runVersion)
}

func runVersion(_ context.Context, _ []string) error {
	_, err := fmt.Fprintln(os.Stdout, version.Get())
	return err
}
