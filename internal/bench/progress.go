package bench

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress prints report() to w every interval until stop is called, so
// that long runs show they are alive (on stderr: stdout holds the JSON).
// A nil w or a non-positive interval prints nothing.
func Progress(w io.Writer, every time.Duration, report func() string) (stop func()) {
	if w == nil || every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(w, "[%6.1fs] %s\n", time.Since(start).Seconds(), report())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}
