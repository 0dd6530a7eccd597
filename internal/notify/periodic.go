package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/reso-fr/reso/domain"
)

// scanArgs is the periodic job that enqueues the reminders and digests
// that have fallen due.
type scanArgs struct{}

// Kind implements river.JobArgs.
func (scanArgs) Kind() string { return "notify_scan" }

// InsertOpts implements river.JobArgsWithInsertOpts: one scan waits at a
// time.
func (scanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

type scanWorker struct {
	river.WorkerDefaults[scanArgs]
	n *Notifier
}

// Work implements river.Worker.
func (w *scanWorker) Work(ctx context.Context, _ *river.Job[scanArgs]) error {
	_, err := w.n.Scan(ctx)
	if err != nil {
		w.n.log.Error("notification scan failed", "err", err)
	}
	return err
}

// The digest goes out on Tuesdays at 09:00 (Config.Location).
const (
	digestDay  = time.Tuesday
	digestHour = 9
)

// scanCatchUpWait is how long a scan waits for the read models to reach
// the head of the log before it is put off.
const scanCatchUpWait = 5 * time.Second

// lastDigestDue is the latest Tuesday 09:00 in loc at or before t.
func lastDigestDue(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	d := time.Date(l.Year(), l.Month(), l.Day(), digestHour, 0, 0, 0, loc)
	for d.Weekday() != digestDay || d.After(l) {
		d = time.Date(d.Year(), d.Month(), d.Day()-1, digestHour, 0, 0, 0, loc)
	}
	return d.UTC()
}

// Scan enqueues what has fallen due since the last scan: the reminders of
// the needs whose day 9 or day 21 passed meanwhile, while they still wait
// (to each referent whose match is still quo), and each referent's weekly
// digest when a Tuesday 09:00 passed. The scan's cursors move in the same
// transaction as the jobs go in; a scan that lost the race to another
// replica's does nothing. The periodic job runs it every
// Config.ScanInterval; tests call it after moving the clock. It returns
// how many jobs it enqueued, and the read models' or database's error.
func (n *Notifier) Scan(ctx context.Context) (int, error) {
	// The scan asks the read models which needs fell due: while they are
	// behind the log (a server starting on empty read models folds the
	// whole log first), it would find too few and move past them for good.
	// It waits a little, then leaves the work to the next scan.
	head, err := n.cfg.Store.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: head of the log: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, scanCatchUpWait)
	err = n.cfg.ReadModels.WaitFor(wctx, head)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		n.log.Info("notification scan put off: the read models are catching up")
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("notify: read models: %w", err)
	}
	now := n.cfg.Now().UTC()
	var fromRaw, digestRaw string
	err = n.q.inTx(ctx, func(t txn) error {
		var err error
		if fromRaw, err = readState(ctx, t, stateReminders); err != nil {
			return err
		}
		digestRaw, err = readState(ctx, t, stateDigest)
		return err
	})
	if err != nil {
		return 0, err
	}
	from, err := parseMicros(fromRaw)
	if err != nil {
		return 0, err
	}
	lastDigest, err := parseMicros(digestRaw)
	if err != nil {
		return 0, err
	}
	var jobs []riverInsert
	if now.After(from) {
		js, err := n.reminders(ctx, from, now)
		if err != nil {
			return 0, err
		}
		jobs = append(jobs, js...)
	}
	due := lastDigestDue(now, n.cfg.Location)
	if due.After(lastDigest) {
		js, err := n.digests(ctx, due)
		if err != nil {
			return 0, err
		}
		jobs = append(jobs, js...)
	}
	var added int
	err = n.q.inTx(ctx, func(t txn) error {
		if now.After(from) {
			if err := moveState(ctx, t, stateReminders, fromRaw, formatMicros(now)); err != nil {
				return err
			}
		}
		if due.After(lastDigest) {
			if err := moveState(ctx, t, stateDigest, digestRaw, formatMicros(due)); err != nil {
				return err
			}
		}
		added, err = t.insert(ctx, jobs)
		return err
	})
	if err == errMoved {
		return 0, nil // another scan did this one's work
	}
	if err != nil {
		return 0, err
	}
	n.metrics.enqueued.Add(float64(added))
	return added, nil
}

// ScannedUntil is the notifier's clock reading of the last scan: the
// reminders due up to then are enqueued. It returns the database's error.
func (n *Notifier) ScannedUntil(ctx context.Context) (time.Time, error) {
	raw, err := n.state(ctx, stateReminders)
	if err != nil {
		return time.Time{}, err
	}
	return parseMicros(raw)
}

// reminders are the day-9 and day-21 reminders of the needs whose
// threshold passed in (from, to].
func (n *Notifier) reminders(ctx context.Context, from, to time.Time) ([]riverInsert, error) {
	var jobs []riverInsert
	for _, r := range []struct {
		kind domain.NotificationKind
		days int
	}{{domain.NotifyPoke, n.cfg.Thresholds.Poke}, {domain.NotifyLastChance, n.cfg.Thresholds.LastChance}} {
		age := time.Duration(r.days) * 24 * time.Hour
		ids, err := n.cfg.ReadModels.WaitingNeedsForwardedBetween(ctx, from.Add(-age), to.Add(-age))
		if err != nil {
			return nil, fmt.Errorf("notify: needs due for %s: %w", r.kind, err)
		}
		for _, id := range ids {
			nl, err := n.readNeed(ctx, id)
			if err != nil {
				return nil, err
			}
			need, err := domain.FoldNeed(id, nl.events)
			if err != nil {
				return nil, fmt.Errorf("notify: fold need %s: %w", id, err)
			}
			// The read model may lag: the need's own stream decides.
			fwd, ok := need.ForwardedAt()
			if !need.Waiting() || !ok || domain.DaysSince(fwd, to) < r.days {
				continue
			}
			for _, m := range need.Matches() {
				if m.Status != domain.MatchQuo {
					continue
				}
				d := delivery{Key: keyOf("remind/"+id.String(), r.kind, domain.RecipientReferent, m.ReferentID),
					NeedID: id, Version: need.Version(), Kind: r.kind, Role: domain.RecipientReferent, To: m.ReferentID}
				jobs = append(jobs, d.job(fwd.Add(age).UnixMicro()))
			}
		}
	}
	return jobs, nil
}

// digests are the weekly digests due at due, one per referent with a need
// waiting for them.
func (n *Notifier) digests(ctx context.Context, due time.Time) ([]riverInsert, error) {
	refs, err := n.cfg.ReadModels.ReferentsWithPending(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: referents with pending needs: %w", err)
	}
	jobs := make([]riverInsert, 0, len(refs))
	week := due.In(n.cfg.Location).Format("2006-01-02")
	for _, r := range refs {
		d := delivery{Key: keyOf("digest/"+week, domain.NotifyDigest, domain.RecipientReferent, r),
			Kind: domain.NotifyDigest, Role: domain.RecipientReferent, To: r}
		jobs = append(jobs, d.job(due.UnixMicro()))
	}
	return jobs, nil
}
