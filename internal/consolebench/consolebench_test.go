package consolebench_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/reso-fr/reso/internal/consolebench"
)

// TestRunSmall runs the measurement on a small store: every page answers
// and gets its figures (the speed itself is measured, not asserted).
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a store")
	}
	res, err := consolebench.Run(context.Background(), consolebench.Options{Needs: 400, Requests: 3, DataDir: t.TempDir(), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pages) < 20 || res.Needs == 0 {
		t.Fatalf("%d pages, %d needs", len(res.Pages), res.Needs)
	}
	for _, p := range res.Pages {
		if p.Requests != 3 || p.P99 <= 0 || p.P50 > p.P99 || p.P99 > p.Max {
			t.Errorf("%s %s: %+v", p.Role, p.Path, p)
		}
	}
	var b bytes.Buffer
	res.Markdown(&b)
	if !strings.Contains(b.String(), "| funder") || !strings.Contains(b.String(), "/besoins/{id}/historique") {
		t.Errorf("markdown:\n%s", b.String())
	}
}

// TestRunFull is the measurement of docs/benchmarks.md, run by hand until
// cmd/reso-bench runs it:
//
//	RESO_CONSOLE_BENCH_NEEDS=100000 go test -run TestRunFull -v -timeout 60m ./internal/consolebench/
//
// RESO_CONSOLE_BENCH_DIR keeps the store between runs (a store with events
// is measured as it is).
func TestRunFull(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("RESO_CONSOLE_BENCH_NEEDS"))
	if err != nil || n <= 0 {
		t.Skip("set RESO_CONSOLE_BENCH_NEEDS to the number of needs to measure over")
	}
	dir := os.Getenv("RESO_CONSOLE_BENCH_DIR") // kept between runs when set
	if dir == "" {
		dir = t.TempDir()
	}
	res, err := consolebench.Run(context.Background(), consolebench.Options{Needs: n, Requests: 200, DataDir: dir, Seed: 1, Out: os.Stdout})
	if err != nil {
		t.Fatal(err)
	}
	res.Markdown(os.Stdout)
}
