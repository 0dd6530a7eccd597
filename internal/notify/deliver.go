package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/mail"
)

// deliverWorker sends one mail.
type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	n *Notifier
}

// Work sends the mail of a delivery unless its NotificationSent is already
// in the need's notification stream, then records it there. Just before
// the mail server keeps the mail (the SMTP transaction's final dot), a row
// of notify_sending says the mail is going: a job that finds that row
// after its process died between the dot and the record knows the mail
// went, records it and sends nothing. A failed attempt is recorded too
// (the first and the last, not every retry between); a refusal the mail
// server says is final is not retried.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	n, a := w.n, job.Args
	hasNeed := a.NeedID != uuid.Nil
	if hasNeed {
		done, err := n.recorded(ctx, a.NeedID, a.Key)
		if err != nil || done {
			return err // done: sent and recorded by an earlier attempt
		}
	}
	going, err := n.markedSending(ctx, a.Key)
	if err != nil {
		return err
	}
	if going {
		// The last attempt handed the mail over and died before recording
		// it: record it now, send nothing.
		return n.finishSent(ctx, a, job.Attempt, nil)
	}
	c, err := n.compose(ctx, a)
	var sk errSkip
	if errors.As(err, &sk) {
		n.log.Debug("notification skipped", "key", a.Key, "why", sk.why)
		return nil
	}
	if err != nil {
		return err
	}
	err = n.cfg.Sender.Send(ctx, c.msg, func() error { return n.markSending(ctx, a.Key) })
	if err != nil {
		// Refused, aborted or cut off: the next attempt sends again.
		if uerr := n.unmarkSending(context.WithoutCancel(ctx), a.Key); uerr != nil {
			n.log.Error("clear sending mark", "key", a.Key, "err", uerr)
		}
		n.metrics.failed.WithLabelValues(string(a.Notice)).Inc()
		permanent := mail.Permanent(err)
		final := permanent || job.Attempt >= job.MaxAttempts
		n.log.Warn("notification failed", "key", a.Key, "kind", a.Notice, "attempt", job.Attempt, "final", final, "err", err)
		if hasNeed && (job.Attempt == 1 || final) {
			if rerr := n.record(ctx, a, c.to, job.Attempt, err, final); rerr != nil {
				n.log.Error("record failed notification", "key", a.Key, "err", rerr)
			}
		}
		if permanent {
			return river.JobCancel(err)
		}
		return err
	}
	n.metrics.sent.WithLabelValues(string(a.Notice)).Inc()
	if a.SinceMicros > 0 {
		n.metrics.delay.Observe(time.Since(time.UnixMicro(a.SinceMicros)).Seconds())
	}
	return n.finishSent(ctx, a, job.Attempt, &c.to)
}

// finishSent records a mail that went out and clears its sending mark.
// to is nil when a later attempt records what a dead one sent: the
// recipient is then named from the log again. An error leaves the mark,
// so that the next attempt records without sending.
func (n *Notifier) finishSent(ctx context.Context, a deliverArgs, attempt int, to *domain.Recipient) error {
	if a.NeedID != uuid.Nil {
		rec := domain.Recipient{Role: a.Role, ID: a.To}
		if to != nil {
			rec = *to
		} else if a.Role != domain.RecipientContact {
			rec.Name = n.nameOf(ctx, a.Role, a.To)
		}
		if err := n.record(ctx, a, rec, attempt, nil, false); err != nil {
			return err
		}
	}
	return n.unmarkSending(ctx, a.Key)
}

// nameOf names a referent or a user ("" when the log cannot say).
func (n *Notifier) nameOf(ctx context.Context, role domain.RecipientRole, id uuid.UUID) string {
	var p person
	var err error
	if role == domain.RecipientReferent {
		p, err = n.people.referent(ctx, id)
	} else {
		p, err = n.people.user(ctx, id)
	}
	if err != nil {
		return ""
	}
	return p.Name
}

func (n *Notifier) markSending(ctx context.Context, key string) error {
	return n.q.inTx(ctx, func(t txn) error {
		_, err := t.exec(ctx, `INSERT INTO notify_sending (key, created_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, nowMicros())
		return err
	})
}

func (n *Notifier) unmarkSending(ctx context.Context, key string) error {
	return n.q.inTx(ctx, func(t txn) error {
		_, err := t.exec(ctx, `DELETE FROM notify_sending WHERE key = $1`, key)
		return err
	})
}

func (n *Notifier) markedSending(ctx context.Context, key string) (bool, error) {
	var k string
	err := n.q.inTx(ctx, func(t txn) error {
		return t.queryRow(ctx, `SELECT key FROM notify_sending WHERE key = $1`, key).Scan(&k)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("notify: sending mark of %s: %w", key, err)
	}
	return true, nil
}

// Timeout bounds one attempt (Config.JobTimeout).
func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration { return w.n.cfg.JobTimeout }

// recordNamespace derives the ids of notification events from their
// delivery key, so that recording twice stores one event.
var recordNamespace = uuid.MustParse("6f1b7c8e-2f61-4d0a-9a51-2c3a5f0e7d11")

// recorded reports whether the need's notification stream has the
// NotificationSent of key.
func (n *Notifier) recorded(ctx context.Context, needID uuid.UUID, key string) (bool, error) {
	raw, err := n.cfg.Store.ReadStream(ctx, domain.NotificationStream(needID), 1, 0)
	if errors.Is(err, eventstore.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("notify: read notifications of %s: %w", needID, err)
	}
	id := uuid.NewSHA1(recordNamespace, []byte(key+"/sent"))
	for _, r := range raw {
		if r.ID == id {
			return true, nil
		}
	}
	return false, nil
}

// record appends a NotificationSent (sendErr nil) or NotificationFailed to
// the need's notification stream.
func (n *Notifier) record(ctx context.Context, a deliverArgs, to domain.Recipient, attempt int, sendErr error, final bool) error {
	meta := domain.Meta{At: n.cfg.Now().UTC(), By: domain.Actor{Role: domain.RoleSystem}}
	var e domain.Event
	var id uuid.UUID
	if sendErr == nil {
		e = domain.NotificationSent{Meta: meta, NeedID: a.NeedID, Kind: a.Notice, To: to, Key: a.Key, Attempt: attempt}
		id = uuid.NewSHA1(recordNamespace, []byte(a.Key+"/sent"))
	} else {
		msg := sendErr.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		e = domain.NotificationFailed{Meta: meta, NeedID: a.NeedID, Kind: a.Notice, To: to, Key: a.Key, Attempt: attempt,
			Error: msg, Final: final}
		id = uuid.NewSHA1(recordNamespace, fmt.Appendf(nil, "%s/failed/%d", a.Key, attempt))
	}
	typ, ver, data, err := domain.Marshal(e)
	if err != nil {
		return err
	}
	_, err = n.cfg.Store.Append(ctx, domain.NotificationStream(a.NeedID), eventstore.AnyVersion, eventstore.NewEvent{
		ID: id, Type: typ, SchemaVersion: ver, Data: data,
		Metadata: eventstore.Metadata{ActorRole: string(domain.RoleSystem), CorrelationID: a.Key},
	})
	if errors.Is(err, eventstore.ErrDuplicateEvent) {
		return nil // recorded by an earlier attempt
	}
	if err != nil {
		return fmt.Errorf("notify: record %s: %w", a.Key, err)
	}
	return nil
}

// retryPolicy waits base before the second attempt, then doubles each
// time up to max, with a tenth of jitter so that deliveries that failed
// together (the mail server was down) do not all come back at once.
type retryPolicy struct{ base, max time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := p.base
	for i := 1; i < job.Attempt && d < p.max; i++ {
		d *= 2
	}
	d = min(d, p.max)
	d += time.Duration(rand.Int64N(int64(d)/10 + 1))
	return time.Now().Add(d)
}
