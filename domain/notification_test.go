package domain

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNotificationStream(t *testing.T) {
	t.Parallel()
	id := mustID(t, 1)
	kind, got, err := ParseStream(NotificationStream(id))
	if err != nil || kind != KindNotificationStream || got != id {
		t.Fatalf("ParseStream(%q) = %q, %s, %v", NotificationStream(id), kind, got, err)
	}
	if StreamKind(NotificationStream(id)) != KindNotificationStream {
		t.Fatalf("kind of %q", NotificationStream(id))
	}
	if len(NotificationEventTypes()) != 2 {
		t.Fatalf("notification event types %v", NotificationEventTypes())
	}
}

// Inputs Marshal never writes leave the fast path; encoding/json decides.
func TestNotificationFastPathLeavesOddInputToJSON(t *testing.T) {
	t.Parallel()
	head := `{"at":"2026-03-02T09:30:15Z","by":{"id":"` + uuid.Nil.String() + `","role":"system"},"need_id":"` + mustID(t, 1).String() + `"`
	for _, tc := range []struct {
		name, typ, data string
		fast            bool
	}{
		{"plain", TypeNotificationFailed, head + `,"attempt":3,"final":false}`, true},
		{"zero attempt", TypeNotificationSent, head + `,"attempt":0}`, true},
		{"leading zero", TypeNotificationSent, head + `,"attempt":03}`, false},
		{"negative", TypeNotificationSent, head + `,"attempt":-1}`, false},
		{"fraction", TypeNotificationSent, head + `,"attempt":1.5}`, false},
		{"exponent", TypeNotificationSent, head + `,"attempt":1e2}`, false},
		{"string attempt", TypeNotificationSent, head + `,"attempt":"1"}`, false},
		{"too long", TypeNotificationSent, head + `,"attempt":1234567890}`, false},
		{"truncated", TypeNotificationSent, head + `,"attempt":`, false},
		{"bad bool", TypeNotificationFailed, head + `,"final":tru}`, false},
		{"null bool", TypeNotificationFailed, head + `,"final":null}`, false},
		{"true", TypeNotificationFailed, head + `,"final":true,"error":"x"}`, true},
		{"null recipient", TypeNotificationSent, head + `,"to":null}`, true},
		{"recipient with unknown key", TypeNotificationSent, head + `,"to":{"email":"x@y.fr"}}`, false},
		{"duplicate key", TypeNotificationSent, head + `,"key":"a","key":"b"}`, false},
	} {
		if got := sameAsJSON(t, tc.typ, []byte(tc.data)); got != tc.fast {
			t.Errorf("%s: fast path %v, want %v", tc.name, got, tc.fast)
		}
	}
}

// Every kind of mail, the newest included, is read back as written, by the
// fast path (which reads a known kind without allocating).
func TestNotificationKindsRoundTrip(t *testing.T) {
	t.Parallel()
	if !slices.Contains(notificationKinds, string(NotifyAdvisorTakenCharge)) {
		t.Fatalf("%q is not among the known kinds %v", NotifyAdvisorTakenCharge, notificationKinds)
	}
	m := Meta{At: time.Date(2026, 3, 2, 9, 30, 15, 0, time.UTC), By: Actor{Role: RoleSystem}}
	for _, k := range notificationKinds {
		e := NotificationSent{Meta: m, NeedID: mustID(t, 1), Kind: NotificationKind(k),
			To: Recipient{Role: RecipientUser, ID: mustID(t, 2), Name: "Adèle Conseil"}, Key: "k/" + k, Attempt: 1}
		typ, _, data, err := Marshal(e)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if !sameAsJSON(t, typ, data) {
			t.Errorf("%s: left the fast path", k)
		}
		got, err := Unmarshal(typ, e.SchemaVersion(), data)
		if err != nil || got != Event(e) {
			t.Errorf("%s: read back %#v, %v", k, got, err)
		}
	}
}
