package notify

import (
	"context"
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
// in the need's notification stream, then records it there. A failed
// attempt is recorded too (the first and the last one, not every retry in
// between); a refusal the mail server says is final is not retried.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	n, a := w.n, job.Args
	hasNeed := a.NeedID != uuid.Nil
	if hasNeed {
		done, err := n.recorded(ctx, a.NeedID, a.Key)
		if err != nil {
			return err
		}
		if done {
			return nil // sent by an earlier attempt that died before completing
		}
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
	err = n.cfg.Sender.Send(ctx, c.msg)
	if err != nil {
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
	if hasNeed {
		// The mail is gone: failing to record it must not send it again,
		// so the job completes; the log says what was not recorded.
		if err := n.record(ctx, a, c.to, job.Attempt, nil, false); err != nil {
			n.log.Error("record sent notification", "key", a.Key, "err", err)
		}
	}
	return nil
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
