package notify_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
	"github.com/reso-fr/reso/internal/mailtest"
)

// The mail server is down when a need is forwarded: the deliveries fail,
// are recorded as failed and retried with backoff, and go out once the
// server is back. Nothing is lost, nothing sent twice.
func TestMailServerDownThenUp(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t, envOptions{store: store})
			e.mp.Stop()
			id, _ := e.mustCapture()
			e.mustForward(id, e.ref1, e.ref2)
			// Down for real: both deliveries fail at least once, and the
			// history says so, before the server comes back.
			waitFor(t, "both deliveries to fail", func() bool {
				vs, err := e.svc.ListNotifications(ctx, e.admin, app.NotificationFilter{Status: app.NotificationFailed})
				return err == nil && len(vs) == 2
			})
			failed, err := e.svc.ListNotifications(ctx, e.admin, app.NotificationFilter{Status: app.NotificationFailed})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range failed {
				if v.Status != app.NotificationRetrying || v.LastError == "" || v.NextAttemptAt == nil || v.Attempts < 1 {
					t.Errorf("failed delivery %+v", v)
				}
			}
			waitFor(t, "the failures in the history", func() bool {
				n := 0
				for _, s := range e.history(id) {
					if s.Type == domain.TypeNotificationFailed {
						n++
					}
				}
				return n >= 2
			})
			e.mp.Restart()
			e.mp.WaitCount(t, 2, 60*time.Second)
			e.waitIdle()
			got := e.mp.Messages(t)
			to := recipients(got)
			slices.Sort(to)
			if !slices.Equal(to, []string{"chloe.nord@referents.test", "david.region@referents.test"}) {
				t.Fatalf("after the outage: %v", to)
			}
			h := e.history(id)
			var kinds []string
			for _, s := range h[2:] {
				kinds = append(kinds, s.Type)
			}
			if kinds[len(kinds)-1] != domain.TypeNotificationSent || len(notifications(h)) != 2 || kinds[0] != domain.TypeNotificationFailed {
				t.Fatalf("history after the forward: %v", kinds)
			}
		})
	}
}

// A recipient the mail server refuses for good is not retried: the
// delivery shows as failed to admins, who retry it once the cause is gone.
func TestAdminRetriesAFailedDelivery(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t, mailtest.Options{AllowedRecipients: `^chloe\.`})
	e := mustEnv(t, envOptions{store: "sqlite", mp: mp})
	id, _ := e.mustCapture()
	e.mustForward(id, e.ref1, e.ref2)
	e.mp.WaitCount(t, 1, 20*time.Second)
	e.waitIdle()
	failed, err := e.svc.ListNotifications(ctx, e.admin, app.NotificationFilter{Status: app.NotificationFailed})
	if err != nil || len(failed) != 1 || failed[0].Status != app.NotificationFailed || failed[0].Attempts != 1 ||
		failed[0].To.Role != domain.RecipientReferent || *failed[0].To.ID != e.ref2 || failed[0].Kind != domain.NotifyForwarded {
		t.Fatalf("failed deliveries %+v, %v", failed, err)
	}
	var final domain.NotificationFailed
	for _, s := range e.history(id) {
		if s.Type == domain.TypeNotificationFailed {
			_ = json.Unmarshal(s.Data, &final)
		}
	}
	if !final.Final || final.To.ID != e.ref2 {
		t.Fatalf("history's failure %+v, want a final one for the second referent", final)
	}
	if _, err := e.svc.RetryNotification(ctx, e.advisor, failed[0].ID); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("an advisor retried: %v", err)
	}
	if _, err := e.svc.RetryNotification(ctx, e.admin, 999999); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("retry of an unknown delivery: %v", err)
	}

	mp.Stop()
	mp.AllowRecipients("")
	mp.Restart()
	// Through the API, as an admin would.
	api := &proc{t: t, base: "http://" + e.srv.Addr()}
	var list struct {
		Items []app.NotificationView `json:"items"`
	}
	api.do(e.adminTk, "GET", "/api/notifications?status=failed", nil, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != failed[0].ID {
		t.Fatalf("GET /api/notifications?status=failed: %+v", list.Items)
	}
	api.do(mustToken(t, e, e.advisor), "GET", "/api/notifications", nil, http.StatusForbidden, nil)
	api.do(e.adminTk, "GET", "/api/notifications?status=lost", nil, http.StatusUnprocessableEntity, nil)
	api.do(e.adminTk, "POST", "/api/notifications/999999/retry", nil, http.StatusNotFound, nil)
	var v app.NotificationView
	api.do(e.adminTk, "POST", fmt.Sprintf("/api/notifications/%d/retry", failed[0].ID), nil, http.StatusOK, &v)
	if v.Status != app.NotificationPending {
		t.Fatalf("retry: %+v", v)
	}
	e.mp.WaitCount(t, 2, 20*time.Second)
	e.waitIdle()
	if to := recipients(e.mp.Messages(t)); len(to) != 2 {
		t.Fatalf("mails after the retry: %v", to)
	}
	if left, _ := e.svc.ListNotifications(ctx, e.admin, app.NotificationFilter{Status: app.NotificationFailed}); len(left) != 0 {
		t.Fatalf("still failed: %+v", left)
	}
}
