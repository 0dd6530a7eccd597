package main

import (
	"context"
	"strings"
	"testing"
)

// `reso bench …` says where the benchmarks went instead of running them.
func TestBenchPointsToResoBench(t *testing.T) {
	err := run(context.Background(), []string{"bench", "append", "--store", "memory"})
	if err == nil {
		t.Fatal("reso bench append succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, `"reso-bench append --store memory"`) || !strings.Contains(msg, "go run ./cmd/reso-bench") {
		t.Errorf("reso bench: %q does not name reso-bench and its arguments", msg)
	}
	if _, ok := commands["bench append"]; ok {
		t.Error(`"bench append" is still a reso command`)
	}
}
