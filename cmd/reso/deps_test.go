package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goListDeps returns the packages pkg links, as `go list -deps` prints them.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	// go test puts its own go first on PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command on PATH: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", pkg).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// benchmarkCode lists what the product binary must not link: the testing
// package and the code built on it or for benchmarks.
var benchmarkCode = []string{
	"testing",
	"github.com/reso-fr/reso/internal/bench",
	"github.com/reso-fr/reso/internal/pgtest",
	"github.com/reso-fr/reso/eventstore/eventstoretest",
}

func linkedBenchmarkCode(deps []string) []string {
	var found []string
	for _, p := range benchmarkCode {
		if slices.Contains(deps, p) {
			found = append(found, p)
		}
	}
	return found
}

// The product binary links no benchmark or testing code: those live in
// cmd/reso-bench (issue 13).
func TestProductBinaryLinksNoBenchmarks(t *testing.T) {
	t.Parallel()
	deps := goListDeps(t, "github.com/reso-fr/reso/cmd/reso")
	// The list is the real one: it holds what reso serves with.
	if !slices.Contains(deps, "github.com/reso-fr/reso/internal/server") {
		t.Fatalf("go list -deps ./cmd/reso has no internal/server: %v", deps)
	}
	if found := linkedBenchmarkCode(deps); len(found) > 0 {
		t.Errorf("cmd/reso links %v; benchmarks belong in cmd/reso-bench", found)
	}
}

// The same check finds the harness in the benchmark command, so that it
// would find it in reso.
func TestBenchmarkCommandLinksTheHarness(t *testing.T) {
	t.Parallel()
	found := linkedBenchmarkCode(goListDeps(t, "github.com/reso-fr/reso/cmd/reso-bench"))
	for _, want := range []string{"testing", "github.com/reso-fr/reso/internal/bench"} {
		if !slices.Contains(found, want) {
			t.Errorf("cmd/reso-bench: %s not found among %v", want, found)
		}
	}
}
