package verify

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// LogOptions tunes Log.
type LogOptions struct {
	// DensePositions says the store numbers events 1, 2, 3… with no hole
	// (SQLite, memory): Log then checks it. PostgreSQL's sequence leaves a
	// hole where an append rolled back, which is not a loss.
	DensePositions bool
	// PageSize is the number of events per read (default 5,000).
	PageSize int
	// Progress, when set, is called after each page with the events read.
	Progress func(events int64)
}

// stream is what the pass over the global order learnt of one stream.
type stream struct {
	version int64  // the last version seen
	sum     uint64 // of the (version, id) sequence, in version order
}

func (s *stream) add(e eventstore.Event) {
	h := fnv.New64a()
	var b [24]byte
	copy(b[:16], e.ID[:])
	for i := range 8 {
		b[16+i] = byte(uint64(e.Version) >> (8 * i))
	}
	h.Write(b[:])
	s.sum = s.sum*1099511628211 ^ h.Sum64()
	s.version = e.Version
}

// Log checks the log. A first pass reads the global order: positions
// strictly increasing (and, with DensePositions, with no hole), each
// stream's versions contiguous from 1, every event decodable by today's
// domain (upcast from its version) and filed in the stream it names, the
// directory folding (see foldDirectory). A second pass reads each stream on its own: the same
// events, in the same order, as in the global order (so none is missing
// from either), and each need's stream folds. It returns the store's error
// when a read fails.
func Log(ctx context.Context, store eventstore.Store, o LogOptions) (*Report, error) {
	if o.PageSize <= 0 {
		o.PageSize = 5000
	}
	r := &Report{}
	streams := map[string]*stream{}
	dirEvents := map[string][]dirEvent{}
	pos := eventstore.Start
	for {
		evs, err := store.ReadAll(ctx, pos, o.PageSize)
		if err != nil {
			return r, fmt.Errorf("verify: read the log after %s: %w", pos, err)
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			checkOrder(r, o, pos, ev)
			pos = ev.Position
			r.Events++
			s := streams[ev.StreamID]
			if s == nil {
				s = &stream{}
				streams[ev.StreamID] = s
			}
			if ev.Version != s.version+1 {
				r.problem("stream %s: version %d follows version %d in the global order (at %s)", ev.StreamID, ev.Version, s.version, ev.Position)
			}
			s.add(ev)
			e, err := decode(ev)
			if err != nil {
				r.problem("%v", err)
				continue
			}
			if k := domain.StreamKind(ev.StreamID); k != domain.KindNeedStream {
				dirEvents[k] = append(dirEvents[k], dirEvent{ev, e})
			}
		}
		if o.Progress != nil {
			o.Progress(r.Events)
		}
	}
	r.Head = pos
	r.Streams = len(streams)
	foldDirectory(r, dirEvents)
	names := make([]string, 0, len(streams))
	for name := range streams {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := checkStream(ctx, store, r, name, streams[name]); err != nil {
			return r, err
		}
	}
	return r, nil
}

// dirEvent is a directory event with what the log says of it.
type dirEvent struct {
	ev eventstore.Event
	e  domain.Event
}

// foldDirectory folds the directory's streams kind by kind: organisations,
// then referents, then users, each kind in global order. Each stream is an
// aggregate of its own, so the order across kinds carries no meaning, and
// writers do append a referent before its organisation (the simulator's
// concurrent writers do); what must hold is that every organisation a
// referent names exists somewhere in the log.
func foldDirectory(r *Report, events map[string][]dirEvent) {
	dir := domain.NewDirectory()
	for _, kind := range []string{domain.KindOrganisationStream, domain.KindReferentStream, domain.KindUserStream} {
		for _, d := range events[kind] {
			if err := dir.Apply(d.e); err != nil {
				r.problem("directory: %s version %d at %s: %v", d.ev.StreamID, d.ev.Version, d.ev.Position, err)
			}
		}
		delete(events, kind)
	}
	for kind, evs := range events {
		r.problem("%d events in streams of unknown kind %q, the first at %s", len(evs), kind, evs[0].ev.Position)
	}
}

func checkOrder(r *Report, o LogOptions, prev eventstore.Position, ev eventstore.Event) {
	if !prev.Less(ev.Position) {
		r.problem("global order: %s comes after %s", ev.Position, prev)
		return
	}
	if o.DensePositions && (ev.Position.Major != prev.Major || ev.Position.Minor != prev.Minor+1) {
		r.problem("global order: %s follows %s, events missing between them", ev.Position, prev)
	}
}

// decode decodes ev and checks it belongs to the stream it is filed in.
func decode(ev eventstore.Event) (domain.Event, error) {
	e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
	if err != nil {
		return nil, fmt.Errorf("%s version %d at %s: %w", ev.StreamID, ev.Version, ev.Position, err)
	}
	if s, err := domain.StreamOf(e); err != nil || s != ev.StreamID {
		return nil, fmt.Errorf("%s version %d at %s: a %s of stream %q", ev.StreamID, ev.Version, ev.Position, ev.Type, s)
	}
	return e, nil
}

// checkStream reads one stream on its own and compares it with what the
// global order held; a need's stream is folded.
func checkStream(ctx context.Context, store eventstore.Store, r *Report, name string, want *stream) error {
	evs, err := store.ReadStream(ctx, name, 1, 0)
	if errors.Is(err, eventstore.ErrNotFound) {
		r.problem("stream %s: in the global order, but reading it finds nothing", name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("verify: read %s: %w", name, err)
	}
	got := &stream{}
	events := make([]domain.Event, 0, len(evs))
	for _, ev := range evs {
		if ev.Version != got.version+1 {
			r.problem("stream %s: version %d follows version %d", name, ev.Version, got.version)
		}
		got.add(ev)
		if e, err := decode(ev); err == nil {
			events = append(events, e)
		}
	}
	if *got != *want {
		r.problem("stream %s: %d events read on their own, %d in the global order, or not the same ones", name, got.version, want.version)
	}
	kind, id, err := domain.ParseStream(name)
	if err != nil {
		r.problem("stream %s: %v", name, err)
		return nil
	}
	if kind != domain.KindNeedStream {
		return nil
	}
	r.Needs++
	if len(events) != len(evs) {
		return nil // the undecodable events were reported in the first pass
	}
	if _, err := domain.FoldNeed(id, events); err != nil {
		r.problem("%v", err)
	}
	return nil
}
