package bench

import (
	"context"
	"testing"
	"time"

	"github.com/reso-fr/reso/eventstore/memory"
)

// writeDuring appends at its rate until stopped, counts every append it
// started, and stops cleanly.
func TestWriteDuring(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	stop := writeDuring(ctx, st, 200)
	time.Sleep(250 * time.Millisecond)
	w := stop()
	if w.Rate != 200 || w.Failed != 0 || w.Latency.Count < 10 || w.Latency.MaxMs < w.Latency.P50Ms {
		t.Fatalf("writes = %+v", w)
	}
	head, err := st.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if int(head.Minor) != w.Latency.Count {
		t.Fatalf("%d events in the log, %d appends counted", head.Minor, w.Latency.Count)
	}
}

// An append that fails is counted as failed, not as a latency.
func TestWriteDuringCountsFailures(t *testing.T) {
	t.Parallel()
	st := memory.New()
	st.Close()
	stop := writeDuring(context.Background(), st, 200)
	time.Sleep(100 * time.Millisecond)
	w := stop()
	if w.Failed == 0 || w.Latency.Count != 0 {
		t.Fatalf("writes on a closed store = %+v", w)
	}
}
