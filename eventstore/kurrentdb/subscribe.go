package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/reso-fr/reso/eventstore"
)

// bufferSize is how many events a subscription holds between the server's
// stream and Next: a full batch while catching up.
const bufferSize = 512

// subscription follows $all through a catch-up subscription of the client
// library. A goroutine receives from the server into a buffer; when the
// server drops the subscription (node restart, leader change, network),
// it subscribes again from the last event it received, after a backoff.
type subscription struct {
	s      *Store
	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	events chan eventstore.Event

	// Owned by Next, under nextMu: the position of the last event read
	// while catching up, and whether the live subscription runs.
	nextMu sync.Mutex
	last   eventstore.Position
	live   bool

	closeOnce sync.Once
	done      chan struct{} // closed by Close
	pumped    chan struct{} // closed when the receiving goroutine ends

	errMu sync.Mutex
	err   error // set before events is closed
}

// Subscribe implements eventstore.Store. The subscription catches up by
// reading $all in pages (full batches), then subscribes to $all from the
// last event read, with a server-side filter that drops system streams (or
// keeps only the namespace). It returns eventstore.ErrClosed after Close.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position) (eventstore.Subscription, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sub := &subscription{
		s:      s,
		ctx:    sctx,
		cancel: cancel,
		last:   after,
		events: make(chan eventstore.Event, bufferSize),
		done:   make(chan struct{}),
		pumped: make(chan struct{}),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		cancel()
		return nil, eventstore.ErrClosed
	}
	s.subs[sub] = struct{}{}
	return sub, nil
}

// open subscribes to $all after p and waits for the server's confirmation
// at most the read timeout (and while ctx lasts). stop ends the returned
// subscription.
func (sub *subscription) open(ctx context.Context, p eventstore.Position) (*kdb.Subscription, func(), error) {
	s := sub.s
	opts := kdb.SubscribeToAllOptions{From: allFrom(p), Filter: subscriptionFilter(s.opts.namespace)}
	return callSub(s, func(c *kdb.Client) (*kdb.Subscription, func(), error) {
		// The subscription's stream lives in actx until it is dropped;
		// the timer only bounds the handshake.
		actx, cancel := context.WithCancel(sub.ctx)
		stopWatch := context.AfterFunc(ctx, cancel)
		timer := time.AfterFunc(s.opts.readTimeout, cancel)
		ks, err := c.SubscribeToAll(actx, opts)
		timedOut := !timer.Stop()
		stopWatch()
		if err != nil {
			cancel()
			if timedOut {
				return nil, nil, fmt.Errorf("no confirmation within %s: %w", s.opts.readTimeout, err)
			}
			return nil, nil, err
		}
		return ks, func() { _ = ks.Close(); cancel() }, nil
	})
}

// callSub is call for subscribing, which returns two values.
func callSub(s *Store, op func(*kdb.Client) (*kdb.Subscription, func(), error)) (*kdb.Subscription, func(), error) {
	type pair struct {
		ks   *kdb.Subscription
		stop func()
	}
	p, err := call(s, func(c *kdb.Client) (pair, error) {
		ks, stop, err := op(c)
		return pair{ks, stop}, err
	})
	return p.ks, p.stop, err
}

// pump receives events from ks into the buffer and resubscribes after a
// drop, from the last event received.
func (sub *subscription) pump(after eventstore.Position, ks *kdb.Subscription, stop func()) {
	defer close(sub.pumped)
	last := after
	failures := 0
	for {
		delivered, err := sub.receive(ks, &last)
		stop()
		if sub.ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, errDropped) {
			sub.fail(err)
			return
		}
		if delivered {
			failures = 0
		}
		for {
			failures++
			wait := backoff(failures, sub.s.opts.backoffMin, sub.s.opts.backoffMax)
			sub.s.log.Warn("subscription dropped; resubscribing", "after", last.String(), "in", wait, "failures", failures)
			if sleep(sub.ctx, wait) != nil {
				return
			}
			ks, stop, err = sub.open(sub.ctx, last)
			if err == nil {
				break
			}
			if sub.ctx.Err() != nil || errors.Is(err, eventstore.ErrClosed) {
				return
			}
			if permanent(err) {
				sub.fail(fmt.Errorf("resubscribe after %s: %w", last, err))
				return
			}
			sub.s.log.Warn("resubscribe failed", "after", last.String(), "err", err)
		}
	}
}

// messages is what receive reads: a subscription of the client library.
type messages interface {
	Recv() *kdb.SubscriptionEvent
}

// errDropped means the server or the network ended the subscription.
var errDropped = errors.New("subscription dropped")

// receive hands the events of ks to the buffer until ks drops or the
// subscription closes. It advances *last past every event received,
// delivered or filtered, and reports whether it delivered any.
func (sub *subscription) receive(ks messages, last *eventstore.Position) (bool, error) {
	delivered := false
	for {
		msg := ks.Recv()
		switch {
		case msg.SubscriptionDropped != nil:
			err := msg.SubscriptionDropped.Error
			if sub.ctx.Err() != nil {
				return delivered, errDropped
			}
			if permanent(err) {
				return delivered, fmt.Errorf("subscription dropped: %w", err)
			}
			sub.s.log.Info("kurrentdb subscription dropped", "err", err)
			return delivered, errDropped
		case msg.EventAppeared != nil:
			r := msg.EventAppeared.OriginalEvent()
			p := toPosition(r.Position)
			if !last.Less(p) {
				continue // a resubscription may repeat the start position
			}
			*last = p
			if !visible(r.StreamID, r.EventType, sub.s.opts.namespace) {
				continue
			}
			e, err := toEvent(r, sub.s.opts.namespace)
			if err != nil {
				return delivered, err
			}
			select {
			case sub.events <- e:
				delivered = true
			case <-sub.ctx.Done():
				return delivered, nil
			}
		}
	}
}

// fail ends the subscription with err: Next returns the buffered events,
// then err.
func (sub *subscription) fail(err error) {
	sub.errMu.Lock()
	sub.err = err
	sub.errMu.Unlock()
	sub.s.log.Error("subscription failed", "err", err)
	close(sub.events)
}

// Next implements eventstore.Subscription. It returns ctx.Err() when ctx
// ends, eventstore.ErrClosed after Close (of the subscription or the
// store), the error of a failed catch-up read or first subscription, and,
// once the buffered events are delivered, the error that ended the
// subscription: an event that cannot be decoded, or the server refusing
// the user (no retry helps then).
func (sub *subscription) Next(ctx context.Context, max int) ([]eventstore.Event, error) {
	if max <= 0 {
		max = 1
	}
	select {
	case <-sub.done:
		return nil, eventstore.ErrClosed
	default:
	}
	if batch, err := sub.catchUp(ctx, max); err != nil || len(batch) > 0 {
		return batch, err
	}
	var first eventstore.Event
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-sub.done:
		return nil, eventstore.ErrClosed
	case e, ok := <-sub.events:
		if !ok {
			return nil, sub.failure()
		}
		first = e
	}
	batch := []eventstore.Event{first}
	for len(batch) < max {
		select {
		case e, ok := <-sub.events:
			if !ok {
				return batch, nil
			}
			batch = append(batch, e)
		default:
			return batch, nil
		}
	}
	return batch, nil
}

// catchUp returns the next page of $all while pages come back non-empty;
// on the first empty page it starts the live subscription from the last
// event read, which also delivers whatever was appended meanwhile, and
// returns no event.
func (sub *subscription) catchUp(ctx context.Context, max int) ([]eventstore.Event, error) {
	sub.nextMu.Lock()
	defer sub.nextMu.Unlock()
	if sub.live {
		return nil, nil
	}
	// Close ends a read in progress too.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(sub.ctx, cancel)()
	evs, err := sub.s.ReadAll(rctx, sub.last, max)
	if err == nil && len(evs) > 0 {
		sub.last = evs[len(evs)-1].Position
		return evs, nil
	}
	if err == nil {
		var ks *kdb.Subscription
		var stop func()
		if ks, stop, err = sub.open(rctx, sub.last); err == nil {
			sub.live = true
			go sub.pump(sub.last, ks, stop)
			return nil, nil
		}
		err = fmt.Errorf("subscribe after %s: %w", sub.last, err)
	}
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case sub.ctx.Err() != nil:
		return nil, eventstore.ErrClosed
	}
	return nil, err
}

func (sub *subscription) failure() error {
	sub.errMu.Lock()
	defer sub.errMu.Unlock()
	return fmt.Errorf("subscription: %w", sub.err)
}

// Close implements eventstore.Subscription. A second call returns
// eventstore.ErrClosed.
func (sub *subscription) Close() error {
	err := eventstore.ErrClosed
	sub.closeOnce.Do(func() {
		err = nil
		close(sub.done)
		sub.cancel()
		sub.nextMu.Lock()
		live := sub.live
		sub.nextMu.Unlock()
		if live {
			<-sub.pumped
		}
		sub.s.mu.Lock()
		delete(sub.s.subs, sub)
		sub.s.mu.Unlock()
	})
	return err
}
