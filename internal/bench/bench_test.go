package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/reso-fr/reso/internal/pgtest"
	"github.com/reso-fr/reso/internal/testwait"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of four", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 100", ms(seq(100)...), 99, 99 * time.Millisecond},
		{"p100", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"p0 is the minimum", ms(5, 6), 0, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestMergeSummarisesEveryRecorder(t *testing.T) {
	t.Parallel()
	a, b := &Recorder{}, &Recorder{}
	for i := 1; i <= 50; i++ {
		a.Add(time.Duration(i) * time.Millisecond)
		b.Add(time.Duration(50+i) * time.Millisecond)
	}
	got := Merge(a, b)
	want := Latency{Count: 100, P50Ms: 50, P90Ms: 90, P99Ms: 99, MaxMs: 100}
	if got != want {
		t.Errorf("Merge = %+v, want %+v", got, want)
	}
}

func TestRound(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		x    float64
		d    int
		want float64
	}{{1.23456, 3, 1.235}, {-1.25, 1, -1.3}, {1000.04, 1, 1000}} {
		if got := Round(tt.x, tt.d); got != tt.want {
			t.Errorf("Round(%v, %d) = %v, want %v", tt.x, tt.d, got, tt.want)
		}
	}
}

// Progress prints one line a tick until stopped, and nothing after. The
// test runs in a synctest bubble: its clock is fake, time.Sleep there only
// lets the bubble's clock reach the given instant once every goroutine of
// the bubble is blocked, so the counts are exact and nothing waits for
// real time.
func TestProgressPrintsUntilStopped(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var buf syncBuffer
		calls := 0
		stop := Progress(&buf, 10*time.Millisecond, func() string { calls++; return "tick" })
		time.Sleep(65 * time.Millisecond) // the fake clock: ticks at 10, 20, … 60 ms
		stop()
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 6 || calls != 6 {
			t.Fatalf("%d lines, %d reports in 65 ms at a 10 ms interval, want 6: %q", len(lines), calls, buf.String())
		}
		if lines[0] != "[   0.0s] tick" || lines[5] != "[   0.1s] tick" {
			t.Errorf("lines %q, want elapsed seconds then the report", lines)
		}
		time.Sleep(time.Second) // the fake clock: a second later, nothing more
		if after := strings.Count(buf.String(), "tick"); after != 6 {
			t.Errorf("%d lines printed after stop", after-6)
		}
		stop() // a second stop is harmless
	})
}

// Without a writer or an interval Progress prints nothing and its stop is
// harmless.
func TestProgressOff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		called := false
		for _, stop := range []func(){
			Progress(nil, time.Millisecond, func() string { called = true; return "" }),
			Progress(io.Discard, 0, func() string { called = true; return "" }),
		} {
			time.Sleep(10 * time.Millisecond) // the fake clock: ten intervals
			stop()
		}
		if called {
			t.Error("report called with progress off")
		}
	})
}

// TestAppendAndReadOnMemory runs both benchmarks end to end, briefly. Its
// checks hold however slow the machine: speed is measured, not asserted.
func TestAppendAndReadOnMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rep, err := RunAppend(ctx, AppendConfig{Store: "memory", Writers: 3, Duration: testwait.Scale(200 * time.Millisecond), Batch: 4, Contention: 0.5, HotStreams: 1, StreamLength: 8})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events == 0 || rep.Events != 4*rep.Appends || rep.EventsPerSec <= 0 || rep.P99Ms < rep.P50Ms {
		t.Errorf("append report inconsistent: %+v", rep)
	}
	if rep.Conflicts == 0 {
		t.Errorf("3 writers sharing one hot stream half the time met no conflict: %+v", rep)
	}
	read, err := RunRead(ctx, ReadConfig{Store: "memory", Events: 2345, Page: 100})
	if err != nil {
		t.Fatal(err)
	}
	if read.Events != 2345 || read.Pages != 24 || read.EventsPerSec <= 0 {
		t.Errorf("read report: %+v", read)
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, read); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back["events_per_sec"] == nil || back["store"] != "memory" {
		t.Errorf("JSON report %s: %v", out.String(), err)
	}
}

func TestAppendRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []AppendConfig{
		{Store: "memory", Writers: 0, Duration: time.Second, Batch: 1},
		{Store: "memory", Writers: 1, Duration: time.Second, Batch: 1, Contention: 1.5},
		{Store: "memory", Writers: 1, Duration: time.Second, Batch: 1, Baseline: true},
		{Store: "oracle", Writers: 1, Duration: time.Second, Batch: 1},
	}
	for _, cfg := range tests {
		if _, err := RunAppend(context.Background(), cfg); err == nil {
			t.Errorf("RunAppend(%+v) succeeded", cfg)
		}
	}
}

// TestPostgresWithBaseline runs both benchmarks briefly on PostgreSQL (each
// in a bench_ schema of its own, dropped at the end).
func TestPostgresWithBaseline(t *testing.T) {
	t.Parallel()
	dsn := pgtest.MustSchema(t) // skips without a server; the bench makes its own schema
	ctx := context.Background()
	rep, err := RunAppend(ctx, AppendConfig{Store: "postgres", DSN: dsn, Writers: 2, Duration: testwait.Scale(400 * time.Millisecond), Batch: 3, Baseline: true, Rounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events == 0 || rep.Baseline == nil || rep.Baseline.Events == 0 || rep.Ratio <= 0 {
		t.Errorf("append report: %+v", rep)
	}
	read, err := RunRead(ctx, ReadConfig{Store: "postgres", DSN: dsn, Events: 1234, Page: 500, StreamLength: 7})
	if err != nil {
		t.Fatal(err)
	}
	if read.Events != 1234 || read.Pages != 3 {
		t.Errorf("read report: %+v", read)
	}
}
