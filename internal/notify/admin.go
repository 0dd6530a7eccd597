package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/reso-fr/reso/internal/app"
)

// statesOf are River's job states behind each status of app's views.
var statesOf = map[string][]rivertype.JobState{
	app.NotificationPending:  {rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled},
	app.NotificationRetrying: {rivertype.JobStateRetryable},
	app.NotificationSent:     {rivertype.JobStateCompleted},
	app.NotificationFailed:   {rivertype.JobStateRetryable, rivertype.JobStateDiscarded, rivertype.JobStateCancelled},
}

// List implements app.Notifications: the deliveries in River's table, the
// latest first.
func (n *Notifier) List(ctx context.Context, f app.NotificationFilter) ([]app.NotificationView, error) {
	p := river.NewJobListParams().Kinds(deliverKind).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(max(1, f.Limit))
	if f.Status != "" {
		states, ok := statesOf[f.Status]
		if !ok {
			return nil, fmt.Errorf("notify: unknown status %q", f.Status)
		}
		p = p.States(states...)
	} else {
		p = p.States(rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
			rivertype.JobStateRetryable, rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled)
	}
	res, err := n.q.list(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("notify: list deliveries: %w", err)
	}
	out := make([]app.NotificationView, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		v, err := view(j)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Retry implements app.Notifications: the delivery is available again at
// once (with one more attempt when it had none left). It returns
// app.ErrNotFound for an id that is no delivery.
func (n *Notifier) Retry(ctx context.Context, id int64) (app.NotificationView, error) {
	j, err := n.q.get(ctx, id)
	if errors.Is(err, rivertype.ErrNotFound) || err == nil && j.Kind != deliverKind {
		return app.NotificationView{}, app.ErrNotFound
	}
	if err != nil {
		return app.NotificationView{}, fmt.Errorf("notify: delivery %d: %w", id, err)
	}
	j, err = n.q.retry(ctx, id)
	if errors.Is(err, rivertype.ErrNotFound) {
		return app.NotificationView{}, app.ErrNotFound
	}
	if err != nil {
		return app.NotificationView{}, fmt.Errorf("notify: retry delivery %d: %w", id, err)
	}
	return view(j)
}

// view is a delivery job as admins see it.
func view(j *rivertype.JobRow) (app.NotificationView, error) {
	var a deliverArgs
	if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
		return app.NotificationView{}, fmt.Errorf("notify: delivery %d: %w", j.ID, err)
	}
	v := app.NotificationView{
		ID: j.ID, Kind: a.Notice, To: app.NotificationRecipient{Role: a.Role},
		Attempts: j.Attempt, MaxAttempts: j.MaxAttempts, CreatedAt: j.CreatedAt.UTC(), FinishedAt: j.FinalizedAt,
	}
	if a.NeedID != uuid.Nil {
		id := a.NeedID
		v.NeedID = &id
	}
	if a.To != uuid.Nil {
		to := a.To
		v.To.ID = &to
	}
	if len(j.Errors) > 0 {
		v.LastError = j.Errors[len(j.Errors)-1].Error
	}
	switch j.State {
	case rivertype.JobStateCompleted:
		v.Status = app.NotificationSent
	case rivertype.JobStateRetryable:
		v.Status = app.NotificationRetrying
		at := j.ScheduledAt.UTC()
		v.NextAttemptAt = &at
	case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
		v.Status = app.NotificationFailed
	default:
		v.Status = app.NotificationPending
		if j.State == rivertype.JobStateScheduled {
			at := j.ScheduledAt.UTC()
			v.NextAttemptAt = &at
		}
	}
	return v, nil
}

var _ app.Notifications = (*Notifier)(nil)
