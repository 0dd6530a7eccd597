package app_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/app"
)

// A capture with a NAF code shows it; a capture of schema version 1 (before
// the code existed) reads with "" in the view and in the history, whose
// JSON has today's shape.
func TestNAFCodeAndVersion1Captures(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, "memory")
	in := capture(lille)
	in.NAFCode = "1071c"
	r, err := f.svc.CaptureNeed(ctx, f.advisor, in, app.CommandMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Need.NAFCode != "10.71C" {
		t.Errorf("capture answers NAF %q", r.Need.NAFCode)
	}
	in.NAFCode = "boulangerie"
	var ve *domain.ValidationError
	if _, err := f.svc.CaptureNeed(ctx, f.advisor, in, app.CommandMeta{}); !errors.As(err, &ve) || ve.Field != "naf_code" {
		t.Errorf("bad NAF code: %v", err)
	}

	// A version 1 capture, as release af5982e wrote it.
	old := uuid.Must(uuid.NewV7())
	v1 := `{"at":"2026-03-02T09:30:00Z","by":{"id":"` + f.advisor.UserID.String() + `","role":"advisor"},` +
		`"need_id":"` + old.String() + `","siret":"73282932000074","company_name":"Boulangerie du Beffroi",` +
		`"commune":"59350","subject":"recruitment","description":"Recruter","contact":{"key_id":"gone","ciphertext":"AAEC"},` +
		`"advisor_id":"` + f.advisor.UserID.String() + `"}`
	if _, err := f.store.Append(ctx, domain.NeedStream(old), eventstore.NoStream, eventstore.NewEvent{
		Type: domain.TypeNeedCaptured, SchemaVersion: 1, Data: []byte(v1),
	}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[uuid.UUID]string{r.Need.ID: "10.71C", old: ""} {
		v, err := f.svc.GetNeed(ctx, f.admin, id, nil)
		if err != nil || v.NAFCode != want || v.CompanyName != "Boulangerie du Beffroi" {
			t.Errorf("need %s: NAF %q, %v", id, v.NAFCode, err)
		}
		h, err := f.svc.History(ctx, f.admin, id)
		if err != nil || len(h) != 1 {
			t.Fatalf("history of %s: %v, %v", id, h, err)
		}
		var data map[string]any
		if err := json.Unmarshal(h[0].Data, &data); err != nil {
			t.Fatal(err)
		}
		if got, ok := data["naf_code"]; !ok || got != want {
			t.Errorf("history of %s: naf_code %v (present %v) in %s", id, got, ok, h[0].Data)
		}
		if strings.Contains(string(h[0].Data), "ciphertext") {
			t.Errorf("history of %s shows the sealed contact: %s", id, h[0].Data)
		}
	}
}
