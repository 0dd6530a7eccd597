package app_test

import (
	"errors"
	"testing"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// The outbox is the admins': every other role is refused, and a service
// without one says so instead of failing.
func TestOutboxIsForAdmins(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "memory")
	for _, p := range []app.Principal{f.advisor, f.referentA, f.animNord, f.funder} {
		if _, err := f.svc.OutboxMails(ctx, p, 0); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s lists the outbox: %v", p.Role, err)
		}
		if _, err := f.svc.OutboxMail(ctx, p, "0123456789abcdef01234567.eml"); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s reads a mail of the outbox: %v", p.Role, err)
		}
	}
	page, err := f.svc.OutboxMails(ctx, f.admin, 0)
	if err != nil || page.Enabled || len(page.Items) != 0 || page.Items == nil {
		t.Errorf("without an outbox: %+v, %v", page, err)
	}
	if _, err := f.svc.OutboxMail(ctx, f.admin, "0123456789abcdef01234567.eml"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("a mail without an outbox: %v", err)
	}
	var ve *domain.ValidationError
	if _, err := f.svc.OutboxMails(ctx, f.admin, 1001); !errors.As(err, &ve) || ve.Field != "limit" {
		t.Errorf("limit 1001: %v", err)
	}
}
