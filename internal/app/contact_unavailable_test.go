package app_test

import (
	"testing"
)

// TestContactUnavailable: a contact whose key is wrapped under a master key
// the server was not given reads as unavailable, the rest of the need as
// it is — not a failure of the whole read.
func TestContactUnavailable(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "sqlite")
	id := f.mustNeed(t, lille, f.refA)
	if _, err := f.db.Exec(`UPDATE reso_contact_keys SET key_hex = 'w1:0123456789abcdef:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'`); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.GetNeed(ctx, f.advisor, id, nil)
	if err != nil {
		t.Fatalf("GetNeed: %v", err)
	}
	if n.Contact == nil || !n.Contact.Unavailable || n.Contact.Erased || n.Contact.Email != "" || n.CompanyName == "" {
		t.Fatalf("need %+v, contact %+v: want the contact unavailable and the rest readable", n, n.Contact)
	}
	h, err := f.svc.History(ctx, f.advisor, id)
	if err != nil || len(h) == 0 {
		t.Fatalf("history: %v", err)
	}
}
