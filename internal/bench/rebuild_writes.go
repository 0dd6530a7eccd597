package bench

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/eventstore"
)

// Writes is what the appends made while a rebuild ran went through: a
// rebuild must not stop the application's writes (on SQLite, its flushes
// and swap need the file's only write lock).
type Writes struct {
	Rate    int     `json:"rate"` // appends asked for per second
	Latency Latency `json:"latency"`
	Failed  int     `json:"failed"`
}

// writeDuring starts one need capture every 1/rate seconds, each in a
// goroutine of its own as independent clients' commands are, until the
// returned stop is called, which waits for those under way and gives the
// summary. Each append's latency counts from the instant it was due.
func writeDuring(ctx context.Context, st eventstore.Store, rate int) (stop func() Writes) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		mu      sync.Mutex
		rec     Recorder
		failed  int
		running sync.WaitGroup
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		advisor := uuid.New()
		every := time.Second / time.Duration(rate)
		start := time.Now()
		for i := 0; ; i++ {
			due := start.Add(time.Duration(i) * every)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(due)):
			}
			running.Add(1)
			go func() {
				defer running.Done()
				// Not ctx: an append under way when the rebuild ends
				// finishes and counts.
				_, err := appendCapture(context.WithoutCancel(ctx), st, advisor, i)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
					return
				}
				rec.Add(time.Since(due))
			}()
		}
	}()
	return func() Writes {
		cancel()
		<-done
		running.Wait()
		return Writes{Rate: rate, Latency: Merge(&rec), Failed: failed}
	}
}
