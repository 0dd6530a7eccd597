package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
)

// fakeNotifications records what the service asks of the notifier.
type fakeNotifications struct {
	filters []app.NotificationFilter
	retried []int64
}

func (f *fakeNotifications) List(_ context.Context, flt app.NotificationFilter) ([]app.NotificationView, error) {
	f.filters = append(f.filters, flt)
	return []app.NotificationView{{ID: 7, Status: app.NotificationFailed}}, nil
}

func (f *fakeNotifications) Retry(_ context.Context, id int64) (app.NotificationView, error) {
	if id != 7 {
		return app.NotificationView{}, app.ErrNotFound
	}
	f.retried = append(f.retried, id)
	return app.NotificationView{ID: id, Status: app.NotificationPending}, nil
}

func TestNotificationsAreTheAdminsOnly(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "memory")
	// A server without a notifier has delivered nothing, and has nothing
	// to retry.
	if got, err := f.svc.ListNotifications(ctx, f.admin, app.NotificationFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("without a notifier: %v, %v; want an empty list", got, err)
	}
	if _, err := f.svc.RetryNotification(ctx, f.admin, 1); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("retry without a notifier: %v, want ErrNotFound", err)
	}
	fake := &fakeNotifications{}
	f.svc.UseNotifications(fake)
	for _, p := range []app.Principal{f.advisor, f.referentA, f.animNord, f.funder} {
		if _, err := f.svc.ListNotifications(ctx, p, app.NotificationFilter{}); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s listed deliveries: %v", p.Role, err)
		}
		if _, err := f.svc.RetryNotification(ctx, p, 7); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s retried a delivery: %v", p.Role, err)
		}
	}
	var ve *domain.ValidationError
	if _, err := f.svc.ListNotifications(ctx, f.admin, app.NotificationFilter{Status: "lost"}); !errors.As(err, &ve) || ve.Field != "status" {
		t.Errorf("unknown status: %v", err)
	}
	if _, err := f.svc.ListNotifications(ctx, f.admin, app.NotificationFilter{Limit: 1001}); !errors.As(err, &ve) || ve.Field != "limit" {
		t.Errorf("limit over 1000: %v", err)
	}
	vs, err := f.svc.ListNotifications(ctx, f.admin, app.NotificationFilter{Status: app.NotificationFailed})
	if err != nil || len(vs) != 1 || fake.filters[0] != (app.NotificationFilter{Status: app.NotificationFailed, Limit: 100}) {
		t.Fatalf("list: %+v, %v; filter %+v", vs, err, fake.filters)
	}
	if v, err := f.svc.RetryNotification(ctx, f.admin, 7); err != nil || v.Status != app.NotificationPending {
		t.Fatalf("retry: %+v, %v", v, err)
	}
	if _, err := f.svc.RetryNotification(ctx, f.admin, 8); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("retry of an unknown delivery: %v", err)
	}
}

// The mails sent about a need are steps of its history, in the log's order.
func TestHistoryMergesTheNotificationStream(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"memory", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := mustFixture(t, kind)
			id := f.mustNeed(t, lille, f.refA)
			sent := domain.NotificationSent{Meta: domain.Meta{At: time.Now().UTC(), By: domain.Actor{Role: domain.RoleSystem}},
				NeedID: id, Kind: domain.NotifyForwarded, To: domain.Recipient{Role: domain.RecipientReferent, ID: f.refA, Name: "Rémi Référent"},
				Key: "k", Attempt: 1}
			typ, ver, data, err := domain.Marshal(sent)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.store.Append(ctx, domain.NotificationStream(id), eventstore.AnyVersion,
				eventstore.NewEvent{ID: uuid.Must(uuid.NewV7()), Type: typ, SchemaVersion: ver, Data: data}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Comment(ctx, f.advisor, id, "suite", app.CommandMeta{}); err != nil {
				t.Fatal(err)
			}
			h, err := f.svc.History(ctx, f.referentA, id)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, s := range h {
				types = append(types, s.Type)
			}
			want := []string{"NeedCaptured", "NeedForwarded", "NotificationSent", "CommentAdded"}
			if !slices.Equal(types, want) {
				t.Fatalf("history %v, want %v", types, want)
			}
			if h[2].Actor.Name != "Réso" || h[2].Actor.Role != domain.RoleSystem || h[2].Version != 1 {
				t.Errorf("notification step %+v", h[2])
			}
		})
	}
}
