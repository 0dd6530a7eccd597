package bench

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/memory"
)

// slowStore takes delay, on the bubble's fake clock, for every append.
type slowStore struct {
	*memory.Store
	delay time.Duration
}

func (s slowStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.NewEvent) (eventstore.AppendResult, error) {
	time.Sleep(s.delay)
	return s.Store.Append(ctx, stream, expected, events...)
}

// writeDuring starts an append every 1/rate seconds, each on its own even
// when the store is slower than the rate, measures each from the instant it
// was due, and its stop waits for those under way and counts every one.
// The tests run in synctest bubbles: time there is a fake clock that moves
// only when every goroutine of the bubble is blocked, so time.Sleep jumps
// to an instant without waiting and the counts are exact.
func TestWriteDuring(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		delay time.Duration // each append's duration
	}{
		{"fast store", 0},
		{"appends slower than the rate overlap", 12 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				st := memory.New()
				defer st.Close()
				stop := writeDuring(ctx, slowStore{st, tt.delay}, 200)
				// Appends are due at 0, 5, … 250 ms: 51 of them; with a
				// delay, those of 245 and 250 ms are still under way.
				time.Sleep(252 * time.Millisecond)
				w := stop()
				wantMs := float64(tt.delay) / float64(time.Millisecond)
				if w.Rate != 200 || w.Failed != 0 || w.Latency.Count != 51 || w.Latency.P50Ms != wantMs || w.Latency.MaxMs != wantMs {
					t.Fatalf("writes = %+v, want 51 appends of %v ms", w, wantMs)
				}
				head, err := st.Head(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if int(head.Minor) != w.Latency.Count {
					t.Fatalf("%d events in the log, %d appends counted", head.Minor, w.Latency.Count)
				}
			})
		})
	}
}

// An append that fails is counted as failed, not as a latency.
func TestWriteDuringCountsFailures(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := memory.New()
		st.Close()
		stop := writeDuring(context.Background(), st, 200)
		time.Sleep(12 * time.Millisecond) // the fake clock: appends due at 0, 5 and 10 ms
		w := stop()
		if w.Failed != 3 || w.Latency.Count != 0 {
			t.Fatalf("writes on a closed store = %+v, want 3 failed", w)
		}
	})
}
