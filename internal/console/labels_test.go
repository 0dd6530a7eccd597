package console

import (
	"testing"

	"github.com/reso-fr/reso/domain"
)

// Every kind of notification mail has a French label in the console: a
// kind added to the domain without one would show its code to admins.
func TestEveryNotificationKindHasALabel(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range domain.NotificationKinds() {
		l := notificationKindLabel(k)
		if l == string(k) || l == "" {
			t.Errorf("notification kind %q has no label", k)
		}
		if seen[l] {
			t.Errorf("label %q names two kinds", l)
		}
		seen[l] = true
	}
	if len(seen) < 11 {
		t.Errorf("%d kinds", len(seen))
	}
}
