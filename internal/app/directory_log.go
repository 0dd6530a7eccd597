package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/projections/directory"
)

// dirEvent is one event of the directory's history, with what an audit
// shows of it.
type dirEvent struct {
	stream   string
	pos      eventstore.Position
	recorded time.Time
	meta     eventstore.Metadata
	event    domain.Event
}

// directoryLog is the directory's whole history, read from the log: every
// event of every organisation's and referent's stream in global order, and
// each stream's version (what an import's appends expect).
type directoryLog struct {
	events   []dirEvent
	versions map[string]int64
}

// tailPage is how many events a read of the log's tail takes at once.
const tailPage = 10_000

// readDirectory reads the directory's history from the log, never from a
// read model, so that an import decides on every change made until now.
// The directory read model only says which streams to read (the ids it
// holds) and how far it got; the log after its checkpoint is scanned for
// streams it has not seen yet, so that a directory changed a moment ago,
// or while no server ran the projections (the command line), is read
// whole. Without read models the whole log is scanned. It returns the
// store's and read models' errors.
func (s *Service) readDirectory(ctx context.Context) (*directoryLog, error) {
	streams := map[string]bool{}
	var after eventstore.Position
	if s.reads != nil {
		sts, err := s.reads.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("read directory: %w", err)
		}
		for _, st := range sts {
			if st.Name != directory.Name {
				continue
			}
			if after, err = eventstore.ParsePosition(st.Position); err != nil {
				return nil, fmt.Errorf("read directory: checkpoint: %w", err)
			}
		}
		// Ids read after the checkpoint: the read model held at least
		// those of every stream up to it (rows and checkpoint commit
		// together, and no row is ever deleted).
		orgs, refs, err := s.reads.DirectoryIDs(ctx)
		if err != nil {
			return nil, fmt.Errorf("read directory: %w", err)
		}
		for _, id := range orgs {
			streams[domain.OrganisationStream(id)] = true
		}
		for _, id := range refs {
			streams[domain.ReferentStream(id)] = true
		}
	}
	for {
		evs, err := s.store.ReadAll(ctx, after, tailPage)
		if err != nil {
			return nil, fmt.Errorf("read directory: log tail: %w", err)
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			switch domain.StreamKind(ev.StreamID) {
			case domain.KindOrganisationStream, domain.KindReferentStream:
				streams[ev.StreamID] = true
			}
		}
		after = evs[len(evs)-1].Position
	}
	l := &directoryLog{versions: make(map[string]int64, len(streams))}
	names := make(chan string)
	type read struct {
		stream string
		events []dirEvent
		err    error
	}
	results := make(chan read)
	var wg sync.WaitGroup
	for range min(readers, len(streams)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for stream := range names {
				evs, err := s.readDirectoryStream(ctx, stream)
				results <- read{stream, evs, err}
			}
		}()
	}
	go func() {
		for stream := range streams {
			names <- stream
		}
		close(names)
		wg.Wait()
		close(results)
	}()
	var first error
	for r := range results {
		if r.err != nil {
			first = cmp.Or(first, r.err)
			continue
		}
		l.events = append(l.events, r.events...)
		if len(r.events) > 0 {
			l.versions[r.stream] = int64(len(r.events))
		}
	}
	if first != nil {
		return nil, first
	}
	slices.SortFunc(l.events, func(a, b dirEvent) int { return a.pos.Compare(b.pos) })
	return l, nil
}

// readers is how many streams readDirectory reads at once: a region's
// thousands of referents are as many streams, and the stores answer
// concurrent reads in parallel.
const readers = 8

// readDirectoryStream reads and decodes one stream of the directory (none
// when it does not exist). It returns the store's and the codec's errors.
func (s *Service) readDirectoryStream(ctx context.Context, stream string) ([]dirEvent, error) {
	raw, err := s.store.ReadStream(ctx, stream, 1, 0)
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read directory: %s: %w", stream, err)
	}
	out := make([]dirEvent, len(raw))
	for i, ev := range raw {
		e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			return nil, fmt.Errorf("read directory: %s version %d: %w", stream, ev.Version, err)
		}
		if ev.Version != int64(i+1) {
			return nil, fmt.Errorf("read directory: %s: version %d at %d", stream, ev.Version, i+1)
		}
		out[i] = dirEvent{stream: stream, pos: ev.Position, recorded: ev.RecordedAt, meta: ev.Metadata, event: e}
	}
	return out, nil
}

// fold is the directory as it stood at asOf (nil: now): its events that
// occurred at or before that instant, in the log's order. It returns an
// error wrapping domain.ErrEventMismatch for a history that does not fold.
func (l *directoryLog) fold(asOf *time.Time) (*domain.Directory, error) {
	d := domain.NewDirectory()
	for _, e := range l.events {
		if asOf != nil && e.event.OccurredAt().After(*asOf) {
			continue
		}
		if err := d.Apply(e.event); err != nil {
			return nil, fmt.Errorf("fold %s at %s: %w", e.stream, e.pos, err)
		}
	}
	return d, nil
}

// importCause is the causation id of every change an import makes: the
// stream of its record, where its file and importer are.
func importCause(importID uuid.UUID) string { return domain.ImportStream(importID) }

// importOf returns the id of the import an event's metadata names as its
// cause, if any.
func importOf(m eventstore.Metadata) (uuid.UUID, bool) {
	kind, id, err := domain.ParseStream(m.CausationID)
	if err != nil || kind != domain.KindImportStream || m.CorrelationID != id.String() {
		return uuid.Nil, false
	}
	return id, true
}

// readImports reads the records of the imports ids, skipping any the log
// does not have. It returns the store's errors.
func (s *Service) readImports(ctx context.Context, ids map[uuid.UUID]bool) (map[uuid.UUID]domain.DirectoryImported, error) {
	out := make(map[uuid.UUID]domain.DirectoryImported, len(ids))
	for id := range ids {
		raw, err := s.store.ReadStream(ctx, domain.ImportStream(id), 1, 1)
		if errors.Is(err, eventstore.ErrNotFound) || (err == nil && len(raw) == 0) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read import %s: %w", id, err)
		}
		e, err := domain.Unmarshal(raw[0].Type, raw[0].SchemaVersion, raw[0].Data)
		if err != nil {
			return nil, fmt.Errorf("read import %s: %w", id, err)
		}
		if rec, ok := e.(domain.DirectoryImported); ok && rec.ImportID == id {
			out[id] = rec
		}
	}
	return out, nil
}

// readOpenings folds the territories' openings from their stream, and
// returns the stream's version. It returns the store's errors.
func (s *Service) readOpenings(ctx context.Context) (*domain.Openings, int64, error) {
	o := domain.NewOpenings()
	raw, err := s.store.ReadStream(ctx, domain.TerritoriesStream(), 1, 0)
	if errors.Is(err, eventstore.ErrNotFound) {
		return o, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read openings: %w", err)
	}
	var version int64
	for _, ev := range raw {
		e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			return nil, 0, fmt.Errorf("read openings: %w", err)
		}
		o.Apply(e)
		version = ev.Version
	}
	return o, version, nil
}
