package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// Notification statuses of NotificationView and NotificationFilter.
const (
	NotificationPending  = "pending"  // waiting for its first attempt
	NotificationRetrying = "retrying" // an attempt failed; another is scheduled
	NotificationSent     = "sent"
	NotificationFailed   = "failed" // no attempt left (or refused for good): waits for an admin's retry
)

// NotificationFilter selects deliveries. Status "failed" lists those
// retrying and those that gave up; "" lists every status.
type NotificationFilter struct {
	Status string
	Limit  int // default 100, at most 1000
}

// NotificationRecipient says who a delivery goes to, without an address.
type NotificationRecipient struct {
	Role domain.RecipientRole `json:"role"`
	ID   *uuid.UUID           `json:"id"` // nil for a company contact
}

// NotificationView is one mail delivery as admins see it.
type NotificationView struct {
	ID            int64                   `json:"id"`
	Kind          domain.NotificationKind `json:"kind"`
	NeedID        *uuid.UUID              `json:"need_id"` // nil for a digest
	To            NotificationRecipient   `json:"to"`
	Status        string                  `json:"status"`
	Attempts      int                     `json:"attempts"`
	MaxAttempts   int                     `json:"max_attempts"`
	LastError     string                  `json:"last_error,omitempty"`
	CreatedAt     time.Time               `json:"created_at"`
	NextAttemptAt *time.Time              `json:"next_attempt_at,omitempty"`
	FinishedAt    *time.Time              `json:"finished_at,omitempty"`
}

// Notifications is the mail deliveries' side of the service;
// *notify.Notifier is one.
type Notifications interface {
	// List returns deliveries, the latest first. It returns a
	// *domain.ValidationError for an unknown status.
	List(ctx context.Context, f NotificationFilter) ([]NotificationView, error)
	// Retry schedules a failed delivery at once. It returns ErrNotFound.
	Retry(ctx context.Context, id int64) (NotificationView, error)
}

// UseNotifications gives the service the notifier behind
// ListNotifications and RetryNotification. Call it before serving.
func (s *Service) UseNotifications(n Notifications) { s.notifications = n }

// errNoNotifier: the server runs without a notifier.
var errNoNotifier = errors.New("notifications are not enabled on this server")

// ListNotifications lists mail deliveries for an admin (failed ones with
// status "failed"). It returns ErrForbidden for every other role, a
// *domain.ValidationError for a bad filter, and the notifier's error.
func (s *Service) ListNotifications(ctx context.Context, p Principal, f NotificationFilter) ([]NotificationView, error) {
	if err := s.Authorize(p, ActionNotifications); err != nil {
		return nil, err
	}
	switch f.Status {
	case "", NotificationPending, NotificationRetrying, NotificationSent, NotificationFailed:
	default:
		return nil, &domain.ValidationError{Field: "status", Message: fmt.Sprintf("unknown status %q (pending, retrying, sent or failed)", f.Status)}
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return nil, &domain.ValidationError{Field: "limit", Message: "an integer from 1 to 1000"}
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if s.notifications == nil {
		// A server without a notifier has delivered nothing.
		return []NotificationView{}, nil
	}
	return s.notifications.List(ctx, f)
}

// RetryNotification makes a failed delivery try again at once. It returns
// ErrForbidden for every role but admin, ErrNotFound for an unknown id, and
// the notifier's error.
func (s *Service) RetryNotification(ctx context.Context, p Principal, id int64) (NotificationView, error) {
	if err := s.Authorize(p, ActionNotifications); err != nil {
		return NotificationView{}, err
	}
	if s.notifications == nil {
		return NotificationView{}, fmt.Errorf("%w: delivery %d (%v)", ErrNotFound, id, errNoNotifier)
	}
	v, err := s.notifications.Retry(ctx, id)
	if err != nil {
		return NotificationView{}, err
	}
	s.log.InfoContext(ctx, "notification retried", "id", id, "by", p.UserID)
	return v, nil
}

// withNotifications merges the need's notification stream (its mails, sent
// and failed) into its history, in the order of the log. A notification's
// Version is its version in that stream.
func (s *Service) withNotifications(ctx context.Context, needID uuid.UUID, steps []HistoryEvent) ([]HistoryEvent, error) {
	raw, err := s.store.ReadStream(ctx, domain.NotificationStream(needID), 1, 0)
	if errors.Is(err, eventstore.ErrNotFound) {
		return steps, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", needID, err)
	}
	for _, r := range raw {
		e, err := domain.Unmarshal(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			return nil, fmt.Errorf("notifications of %s version %d: %w", needID, r.Version, err)
		}
		by := e.Actor()
		steps = append(steps, HistoryEvent{
			Version: r.Version, Position: r.Position.String(), Type: r.Type,
			OccurredAt: e.OccurredAt(), RecordedAt: r.RecordedAt,
			Actor: ActorView{ID: by.ID, Name: s.actorName(ctx, by), Role: by.Role},
			Data:  r.Data,
		})
	}
	slices.SortStableFunc(steps, func(a, b HistoryEvent) int {
		pa, _ := eventstore.ParsePosition(a.Position)
		pb, _ := eventstore.ParsePosition(b.Position)
		return pa.Compare(pb)
	})
	return steps, nil
}
