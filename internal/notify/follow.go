package notify

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// followBatch is the most events the follower plans in one transaction.
const followBatch = 256

// follow runs the log follower until ctx ends: one process at a time holds
// it (a PostgreSQL advisory lock); the others wait in standby.
func (n *Notifier) follow(ctx context.Context) {
	for ctx.Err() == nil {
		release, held, err := n.lock(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			n.log.Error("notifier lock", "err", err)
			sleepCtx(ctx, n.cfg.RetryDelay)
			continue
		}
		if !held {
			sleepCtx(ctx, n.cfg.StandbyRetry)
			continue
		}
		err = n.followHeld(ctx)
		release()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errMoved):
			continue // SkipTo or another runner moved the checkpoint: read it again
		}
		n.log.Error("notifier follower failed; restarting from its checkpoint", "err", err)
		sleepCtx(ctx, n.cfg.RetryDelay)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// lock makes this process the follower. On PostgreSQL it takes a session
// advisory lock on a connection of its own, held until release (or until
// the process dies and the server ends the session). SQLite serves one
// process: always held. The checkpoint's compare-and-set keeps two
// followers from enqueueing the same events even if the lock were lost.
func (n *Notifier) lock(ctx context.Context) (release func(), held bool, err error) {
	if n.cfg.Postgres == nil {
		return func() {}, true, nil
	}
	conn, err := n.cfg.Postgres.Acquire(ctx)
	if err != nil {
		return nil, false, err
	}
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		conn.Release()
		return nil, false, err
	}
	h := fnv.New64a()
	h.Write([]byte("reso.notify/" + schema))
	key := int64(h.Sum64())
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&held); err != nil {
		conn.Release()
		return nil, false, err
	}
	if !held {
		conn.Release()
		return func() {}, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// The session ends with the connection, and its locks with it.
			_ = conn.Conn().Close(ctx)
		}
		conn.Release()
	}, true, nil
}

// Checkpoint returns the position up to which the notifier has turned the
// log into jobs. It returns the database's error.
func (n *Notifier) Checkpoint(ctx context.Context) (eventstore.Position, error) {
	raw, err := n.state(ctx, stateLog)
	if err != nil {
		return eventstore.Position{}, err
	}
	return eventstore.ParsePosition(raw)
}

// followHeld follows the log from the checkpoint: each batch's jobs and
// the new checkpoint are committed together.
func (n *Notifier) followHeld(ctx context.Context) error {
	cp, err := n.state(ctx, stateLog)
	if err != nil {
		return err
	}
	pos, err := eventstore.ParsePosition(cp)
	if err != nil {
		return fmt.Errorf("notify: checkpoint: %w", err)
	}
	sub, err := n.cfg.Store.Subscribe(ctx, pos)
	if err != nil {
		return fmt.Errorf("notify: subscribe: %w", err)
	}
	defer sub.Close()
	for {
		evs, err := sub.Next(ctx, followBatch)
		if err != nil {
			return fmt.Errorf("notify: read log: %w", err)
		}
		if len(evs) == 0 {
			continue
		}
		jobs, err := n.planBatch(ctx, evs)
		if err != nil {
			return err
		}
		next := evs[len(evs)-1].Position.String()
		var added int
		err = n.q.inTx(ctx, func(t txn) error {
			if err := moveState(ctx, t, stateLog, cp, next); err != nil {
				return err
			}
			added, err = t.insert(ctx, jobs)
			return err
		})
		if err != nil {
			return err
		}
		cp = next
		n.metrics.enqueued.Add(float64(added))
	}
}

// needLog is a need's stream, decoded, read once per batch: it holds at
// least every event of the batch, as streams only grow.
type needLog struct {
	raw    []eventstore.Event
	events []domain.Event
}

// planBatch turns a batch of the log into delivery jobs.
func (n *Notifier) planBatch(ctx context.Context, evs []eventstore.Event) ([]riverInsert, error) {
	var jobs []riverInsert
	logs := map[uuid.UUID]*needLog{}
	for _, ev := range evs {
		if domain.StreamKind(ev.StreamID) != domain.KindNeedStream {
			continue
		}
		e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			return nil, fmt.Errorf("notify: event %s of %s: %w", ev.ID, ev.StreamID, err)
		}
		switch e.(type) {
		case domain.NeedCaptured, domain.ContactErased:
			continue // nobody is told
		}
		if ev.RecordedAt.Sub(e.OccurredAt()) > n.cfg.MaxEventAge {
			continue // history recorded long after it happened: an import
		}
		_, needID, err := domain.ParseStream(ev.StreamID)
		if err != nil {
			return nil, fmt.Errorf("notify: event %s: %w", ev.ID, err)
		}
		nl, ok := logs[needID]
		if !ok {
			if nl, err = n.readNeed(ctx, needID); err != nil {
				return nil, err
			}
			logs[needID] = nl
		}
		if ev.Version < 1 || int(ev.Version) > len(nl.events) {
			return nil, fmt.Errorf("notify: event %s at version %d of %s, which has %d", ev.ID, ev.Version, ev.StreamID, len(nl.events))
		}
		before, err := domain.FoldNeed(needID, nl.events[:ev.Version-1])
		if err != nil {
			return nil, fmt.Errorf("notify: fold %s: %w", ev.StreamID, err)
		}
		after, err := domain.FoldNeed(needID, nl.events[:ev.Version])
		if err != nil {
			return nil, fmt.Errorf("notify: fold %s: %w", ev.StreamID, err)
		}
		var authorReferent uuid.UUID
		if _, ok := e.(domain.CommentAdded); ok && e.Actor().Role == domain.RoleReferent {
			authorReferent = n.people.referentOfUser(ctx, e.Actor().ID)
		}
		for _, d := range plan(ev.ID.String(), e, before, after, authorReferent) {
			jobs = append(jobs, d.job(ev.RecordedAt.UnixMicro()))
		}
	}
	return jobs, nil
}

// readNeed reads and decodes a need's whole stream.
func (n *Notifier) readNeed(ctx context.Context, id uuid.UUID) (*needLog, error) {
	raw, err := n.cfg.Store.ReadStream(ctx, domain.NeedStream(id), 1, 0)
	if err != nil {
		return nil, fmt.Errorf("notify: read need %s: %w", id, err)
	}
	nl := &needLog{raw: raw, events: make([]domain.Event, len(raw))}
	for i, r := range raw {
		if nl.events[i], err = domain.Unmarshal(r.Type, r.SchemaVersion, r.Data); err != nil {
			return nil, fmt.Errorf("notify: need %s version %d: %w", id, r.Version, err)
		}
	}
	return nl, nil
}
