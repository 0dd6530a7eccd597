package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reso-fr/reso/internal/console"
)

// TestFormBodyLimit: a form over console.MaxFormBytes is refused with a
// French 413 and stores nothing, on signed-in and public pages alike; one
// just under the limit reaches its handler.
func TestFormBodyLimit(t *testing.T) {
	t.Parallel()
	w := mustWeb(t)
	c := w.cookie(t, w.advisor)
	same := []string{"Sec-Fetch-Site", "same-origin"}
	big := validCapture("73282932000074")
	big.Set("description", strings.Repeat("a", console.MaxFormBytes))
	for _, tc := range []struct {
		path   string
		cookie *http.Cookie
		form   url.Values
	}{
		{"/besoins/nouveau", c, big},
		{"/connexion/courriel", nil, url.Values{"courriel": {strings.Repeat("a", console.MaxFormBytes) + "@example.fr"}}},
	} {
		a := w.do(t, http.MethodPost, tc.path, tc.cookie, tc.form, same...)
		if a.status != http.StatusRequestEntityTooLarge || !strings.Contains(a.body, "Formulaire trop long") {
			t.Errorf("%s: %d %.300s", tc.path, a.status, a.body)
		}
	}
	if n := w.needCount(t); n != 0 {
		t.Errorf("%d needs stored by a refused form", n)
	}
	// Just under the limit, the form reaches the capture handler, whose
	// own check answers (a description that long is refused in French,
	// next to its field, or stored): not a 413.
	under := validCapture("73282932000074")
	under.Set("description", strings.Repeat("a", console.MaxFormBytes-len(under.Encode())-200))
	if a := w.do(t, http.MethodPost, "/besoins/nouveau", c, under, same...); a.status == http.StatusRequestEntityTooLarge {
		t.Errorf("a form under the limit was refused: %d", a.status)
	}
}
