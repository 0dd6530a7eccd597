package projections

import (
	"context"
	"runtime"
	"sync"

	"github.com/reso-fr/reso/eventstore"
)

// page is a run of events read from the log and decoded, in log order.
type page struct {
	evs []eventstore.Event
	ds  []Decoded
	// full says the read returned as many events as it asked for: more are
	// probably waiting.
	full bool
	err  error
}

// prefetcher reads the log ahead of its consumer in one goroutine and
// decodes the pages in parallel (at most GOMAXPROCS at once), delivering
// them in log order: reading, decoding and the consumer's folding and
// writing overlap instead of taking turns. At most ahead pages wait,
// decoded or being decoded, so memory stays bounded.
type prefetcher struct {
	out    chan chan page
	cancel context.CancelFunc
	done   chan struct{}
}

// inlineDecode is the page size under which the reader decodes a page
// itself.
const inlineDecode = 256

// readFunc reads the next events of the log; size is how many it may ask
// for. It returns no events only on error (a rebuild's read past the end
// returns an empty, short page instead).
type readFunc func(ctx context.Context, size int) ([]eventstore.Event, error)

// newPrefetcher starts reading with read until ctx ends, stop is called, a
// read fails, or (when stopShort) a page comes back short. next gives the
// pages; the page carrying an error is the last one.
//
// size is the page size while the log delivers short pages (live); after a
// full page it grows to bigSize, so that a consumer catching up reads in
// large pages, and falls back after a short one.
func newPrefetcher(ctx context.Context, read readFunc, size, bigSize, ahead int, stopShort bool) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher{out: make(chan chan page, ahead), cancel: cancel, done: make(chan struct{})}
	workers := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	go func() {
		defer close(p.done)
		defer close(p.out)
		var decoding sync.WaitGroup
		defer decoding.Wait()
		n := size
		for {
			evs, err := read(ctx, n)
			fut := make(chan page, 1)
			if err != nil {
				fut <- page{err: err}
				p.send(ctx, fut)
				return
			}
			full := len(evs) >= n
			if full {
				n = max(size, bigSize)
			} else {
				n = size
			}
			if len(evs) < inlineDecode {
				// Live pages are small: a goroutine hop would only add
				// latency.
				ds, err := decodeBatch(evs)
				fut <- page{evs: evs, ds: ds, full: full, err: err}
				if !p.send(ctx, fut) || (stopShort && !full) {
					return
				}
				continue
			}
			select {
			case workers <- struct{}{}:
			case <-ctx.Done():
				return
			}
			decoding.Add(1)
			go func() {
				defer decoding.Done()
				defer func() { <-workers }()
				ds, err := decodeBatch(evs)
				fut <- page{evs: evs, ds: ds, full: full, err: err}
			}()
			if !p.send(ctx, fut) || (stopShort && !full) {
				return
			}
		}
	}()
	return p
}

func (p *prefetcher) send(ctx context.Context, fut chan page) bool {
	select {
	case p.out <- fut:
		return true
	case <-ctx.Done():
		return false
	}
}

// next returns the next page, blocking until it is decoded; ok is false
// when the reader has stopped (after a short page with stopShort, or
// after stop).
func (p *prefetcher) next(ctx context.Context) (page, bool) {
	select {
	case fut, ok := <-p.out:
		if !ok {
			return page{}, false
		}
		return <-fut, true
	case <-ctx.Done():
		return page{err: ctx.Err()}, true
	}
}

// ready reports whether the next page has been read already (it may still
// be decoding): a consumer then folds it into the same transaction.
func (p *prefetcher) ready() bool { return len(p.out) > 0 }

// stop ends the reader and waits for it.
func (p *prefetcher) stop() {
	p.cancel()
	<-p.done
}
