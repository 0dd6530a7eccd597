package eventstoretest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/eventstoretest"
	"github.com/reso-fr/reso/eventstore/memory"
)

// faultEnv names the fault TestFaultyStore injects; TestSuiteCatchesFaults
// sets it in a child process.
const faultEnv = "RESO_EVENTSTORETEST_FAULT"

// TestSuiteCatchesFaults proves the suite can fail: each fault, injected
// into an otherwise correct store, must make the named case fail.
func TestSuiteCatchesFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault, caseName string
	}{
		{"ignore-expected", "ExpectedVersion"},
		{"ignore-expected", "OptimisticConcurrency"},
		{"drop-event", "GapFreeOrder"},
		{"drop-event", "SubscribeCatchUpThenLive"},
		{"redeliver", "GapFreeOrder"},
		{"local-time", "AppendAndRead"},
		{"close-does-not-unblock", "SubscribeClose"},
		{"readall-no-limit", "ReadAll"},
		{"naive-sequence", "GapFreeOrder"},
	}
	for _, tt := range tests {
		t.Run(tt.fault+"/"+tt.caseName, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0],
				"-test.run=^TestFaultyStore$/^"+tt.caseName+"$", "-test.short", "-test.count=1", "-test.timeout=60s")
			cmd.Env = append(os.Environ(), faultEnv+"="+tt.fault)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("case %s passed on a store with fault %s:\n%s", tt.caseName, tt.fault, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestFaultyStore/"+tt.caseName) {
				t.Fatalf("case %s did not report the failure:\n%s", tt.caseName, out)
			}
		})
	}
}

// TestFaultyStore runs the suite on a memory store with the fault named by
// the environment; it only runs as TestSuiteCatchesFaults's child.
func TestFaultyStore(t *testing.T) {
	fault := os.Getenv(faultEnv)
	if fault == "" {
		t.Skip("run by TestSuiteCatchesFaults with " + faultEnv + " set")
	}
	eventstoretest.Run(t, func(t *testing.T) (eventstore.Store, func() (eventstore.Store, error)) {
		if fault == "naive-sequence" {
			return newNaive(), nil
		}
		return &faulty{Store: memory.New(), fault: fault}, nil
	})
}

type faulty struct {
	*memory.Store
	fault string
}

func (f *faulty) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	if f.fault == "ignore-expected" {
		exp = eventstore.AnyVersion
	}
	return f.Store.Append(ctx, stream, exp, evs...)
}

func (f *faulty) ReadStream(ctx context.Context, stream string, from int64, limit int) ([]eventstore.Event, error) {
	evs, err := f.Store.ReadStream(ctx, stream, from, limit)
	return f.skew(evs), err
}

func (f *faulty) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.Event, error) {
	if f.fault == "readall-no-limit" {
		limit = 0
	}
	evs, err := f.Store.ReadAll(ctx, after, limit)
	return f.skew(evs), err
}

func (f *faulty) skew(evs []eventstore.Event) []eventstore.Event {
	if f.fault == "local-time" {
		for i := range evs {
			evs[i].RecordedAt = evs[i].RecordedAt.Local()
		}
	}
	return evs
}

func (f *faulty) Subscribe(ctx context.Context, after eventstore.Position) (eventstore.Subscription, error) {
	sub, err := f.Store.Subscribe(ctx, after)
	if err != nil {
		return nil, err
	}
	return &faultySub{Subscription: sub, fault: f.fault}, nil
}

type faultySub struct {
	eventstore.Subscription
	fault string
	calls atomic.Int64
	last  []eventstore.Event
}

func (s *faultySub) Next(ctx context.Context, max int) ([]eventstore.Event, error) {
	n := s.calls.Add(1)
	if s.fault == "redeliver" && n == 3 && len(s.last) > 0 {
		return s.last, nil
	}
	evs, err := s.Subscription.Next(ctx, max)
	if s.fault == "drop-event" && n == 2 && len(evs) > 0 {
		evs = evs[1:]
		if len(evs) == 0 {
			return s.Subscription.Next(ctx, max)
		}
	}
	s.last = evs
	return evs, err
}

func (s *faultySub) Close() error {
	if s.fault == "close-does-not-unblock" {
		return nil
	}
	return s.Subscription.Close()
}
