package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
)

// Every command is reachable by its name and parses its own flags: -h
// prints its usage and runs nothing.
func TestEveryCommandAnswersHelp(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range commands {
		if seen[c.name] {
			t.Errorf("command %s listed twice", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{c.name, "-h"}, &stdout, &stderr)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("%s -h: %v, want flag.ErrHelp", c.name, err)
			}
			if !strings.Contains(stderr.String(), "Usage of reso-bench "+c.name) || stdout.Len() != 0 {
				t.Errorf("%s -h: stdout %q, stderr %q", c.name, stdout.String(), stderr.String())
			}
		})
	}
	// What `reso bench` offered: the same names.
	for _, name := range []string{"append", "read", "http", "rebuild", "lag", "stats", "domain"} {
		if !seen[name] {
			t.Errorf("no command %s", name)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"bogus"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Fatalf("run bogus: %v", err)
	}
	if !strings.Contains(stderr.String(), "usage: reso-bench COMMAND") {
		t.Errorf("no usage on stderr: %q", stderr.String())
	}
}

// A short append run on the memory store prints its report as one JSON
// object with the fields docs/benchmarks.md quotes.
func TestAppendPrintsItsReport(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"append", "--store", "memory", "--writers", "2", "--duration", "100ms", "--batch", "2"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout %q: %v", stdout.String(), err)
	}
	for _, k := range []string{"store", "writers", "batch", "contention", "events", "appends", "seconds", "events_per_sec", "p50_ms", "p99_ms", "conflicts"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report has no %s: %s", k, stdout.String())
		}
	}
	if rep["store"] != "memory" || rep["writers"] != 2.0 || rep["batch"] != 2.0 {
		t.Errorf("report does not follow the flags: %s", stdout.String())
	}
}
