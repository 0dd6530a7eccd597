package domain

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// sampleEvents has one value of every event type with every field set to a
// non-zero value, so that a field lost in encoding shows.
func sampleEvents(t testing.TB) []Event {
	t.Helper()
	m := Meta{At: time.Date(2026, 3, 2, 9, 30, 15, 123456789, time.UTC), By: animateur}
	zones := []Zone{{Level: LevelCommune, Code: "59350"}, {Level: LevelEPCI, Code: "200093201"}, National}
	return []Event{
		NeedCaptured{Meta: m, NeedID: mustID(t, 1), SIRET: "73282932000074", CompanyName: "Société « Été » & Cie",
			NAFCode: "10.71C", Commune: "59350", Subject: "export", Description: "Ligne 1\nLigne 2 \"quotée\"",
			Contact: SealedContact{KeyID: "k-1", Ciphertext: []byte{0, 1, 2, 255}}, AdvisorID: mustID(t, 2)},
		NeedForwarded{Meta: m, NeedID: mustID(t, 1), Referents: refs(t, 3, 5)},
		MatchStatusChanged{Meta: m, NeedID: mustID(t, 1), ReferentID: mustID(t, 3), From: MatchQuo, To: MatchNotForMe, Comment: "hors zone"},
		CommentAdded{Meta: m, NeedID: mustID(t, 1), Text: "Relancé par téléphone"},
		ReminderSent{Meta: m, NeedID: mustID(t, 1), Kind: ReminderLastChance},
		NeedAbandoned{Meta: m, NeedID: mustID(t, 1), Reason: "entreprise fermée"},
		ContactErased{Meta: m, NeedID: mustID(t, 1), KeyID: "k-1"},
		OrganisationCreated{Meta: m, OrganisationID: mustID(t, 6), Name: "CCI Grand Lille", Kind: KindCCI},
		AntenneCreated{Meta: m, OrganisationID: mustID(t, 6), AntenneID: mustID(t, 7), Name: "Antenne de Roubaix", Zone: Zone{Level: LevelEPCI, Code: "200093201"}},
		ReferentRegistered{Meta: m, ReferentID: mustID(t, 8), OrganisationID: mustID(t, 6), AntenneID: mustID(t, 7),
			Name: "Claire Martin", Email: "claire@example.fr", Subjects: []string{"export", "customs"}, Zones: zones},
		ReferentCoverageChanged{Meta: m, ReferentID: mustID(t, 8), Subjects: []string{"recruitment"}, Zones: zones[:1]},
		ReferentDeactivated{Meta: m, ReferentID: mustID(t, 8)},
		UserRegistered{Meta: m, UserID: mustID(t, 9), Name: "Paul Durand", Email: "paul@example.fr", Role: RoleAnimateur,
			OrganisationID: mustID(t, 6), ReferentID: mustID(t, 8), Territories: zones[1:]},
		NotificationSent{Meta: m, NeedID: mustID(t, 1), Kind: NotifyForwarded,
			To: Recipient{Role: RecipientReferent, ID: mustID(t, 3), Name: "Claire « Martin »"}, Key: "k/1", Attempt: 2},
		NotificationFailed{Meta: m, NeedID: mustID(t, 1), Kind: NotifyTakenCharge,
			To: Recipient{Role: RecipientContact, ID: mustID(t, 4), Name: "x"}, Key: "k/2", Attempt: 12,
			Error: "dial tcp: connection refused", Final: true},
		ReferentDetailsChanged{Meta: m, ReferentID: mustID(t, 8), AntenneID: mustID(t, 7), Name: "Claire Martin-Dupré",
			Phone: "03 20 00 00 00", Function: "Conseillère « export »"},
		ReferentReactivated{Meta: m, ReferentID: mustID(t, 8)},
		DirectoryImported{Meta: m, ImportID: mustID(t, 10), FileName: "annuaire «HDF».xlsx", FileSHA256: "9f86d081884c7d65",
			Format: "xlsx", Headers: "reso", ByName: "Paul Durand"},
		TerritoryOpened{Meta: m, Zone: Zone{Level: LevelRegion, Code: "32"}, OpenedOn: "2026-09-01"},
		SignauxFaiblesListImported{Meta: m, ListID: SFListID("2026-03"), ImportID: mustID(t, 10), Label: "Mars « 2026 »",
			Period: "2026-03", Lines: 2, F1: 1, F2: 1, Parts: 1, Digest: "9f86d081884c7d65"},
		SignauxFaiblesLinesRecorded{Meta: m, ListID: SFListID("2026-03"), ImportID: mustID(t, 10), Part: 1, Lines: []SFLine{
			{SIREN: "732829320", Alert: SFAlertF1, Score: 0.873, Algo: "avec_urssaf", Batch: "2603", Commune: "59350"},
			{SIREN: "356000000", Alert: SFAlertF2, Score: 1e-7}}},
	}
}

func TestSampleEventsCoverEveryTypeWithEveryField(t *testing.T) {
	t.Parallel()
	var types []string
	for _, e := range sampleEvents(t) {
		types = append(types, e.EventType())
		v := reflect.ValueOf(e)
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).IsZero() {
				t.Errorf("%s.%s is zero: the round-trip test would not see it lost", e.EventType(), v.Type().Field(i).Name)
			}
		}
	}
	slices.Sort(types)
	if !slices.Equal(types, EventTypes()) {
		t.Fatalf("sample types %v, want every type %v", types, EventTypes())
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	for _, e := range sampleEvents(t) {
		t.Run(e.EventType(), func(t *testing.T) {
			t.Parallel()
			typ, ver, data, err := Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if cur, _ := CurrentVersion(typ); typ != e.EventType() || ver != cur {
				t.Fatalf("Marshal type, version = %q, %d; want %q, %d", typ, ver, e.EventType(), cur)
			}
			got, err := Unmarshal(typ, ver, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, e)
			}
			if reflect.TypeOf(got).Kind() == reflect.Pointer {
				t.Fatalf("Unmarshal returned a pointer %T", got)
			}
		})
	}
}

func TestMarshalFieldNames(t *testing.T) {
	t.Parallel()
	// The JSON names are the stored schema: a renamed Go field must not
	// change them.
	_, _, data, err := Marshal(sampleEvents(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"advisor_id", "at", "by", "commune", "company_name", "contact", "description", "naf_code", "need_id", "siret", "subject"}
	if !slices.Equal(keys, want) {
		t.Fatalf("NeedCaptured keys %v, want %v", keys, want)
	}
	if !strings.Contains(string(data), `"at":"2026-03-02T09:30:15.123456789Z"`) {
		t.Fatalf("instant not in RFC 3339 UTC with nanoseconds: %s", data)
	}
}

func TestUnmarshalNormalisesToUTC(t *testing.T) {
	t.Parallel()
	data := []byte(`{"at":"2026-03-02T10:00:00+01:00","by":{"id":"00000000-0000-0000-0000-000000000000","role":"system"},"need_id":"01000000-0000-7000-8000-000000000001","text":"x"}`)
	e, err := Unmarshal(TypeCommentAdded, 1, data)
	if err != nil {
		t.Fatal(err)
	}
	at := e.OccurredAt()
	if at.Location() != time.UTC || !at.Equal(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("at = %v (%v), want 09:00 UTC", at, at.Location())
	}
	if e.Actor().Role != RoleSystem {
		t.Fatalf("actor %+v", e.Actor())
	}
}

func TestUnmarshalErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		typ     string
		version int
		data    string
		want    error
		msg     string
	}{
		{"unknown type", "NeedTeleported", 1, `{}`, ErrUnknownEventType, "NeedTeleported"},
		{"empty type", "", 1, `{}`, ErrUnknownEventType, `""`},
		{"future version", TypeNeedCaptured, 3, `{}`, ErrUnsupportedVersion, "version 3"},
		{"future version of a type never changed", TypeCommentAdded, 2, `{}`, ErrUnsupportedVersion, "version 2"},
		{"negative version", TypeNeedCaptured, -1, `{}`, ErrUnsupportedVersion, "version -1"},
		{"not json", TypeCommentAdded, 1, `{"text":`, nil, "unmarshal CommentAdded"},
		{"wrong field type", TypeCommentAdded, 1, `{"text":3}`, nil, "unmarshal CommentAdded"},
		{"bad uuid", TypeCommentAdded, 1, `{"need_id":"nope"}`, nil, "unmarshal CommentAdded"},
		{"bad time", TypeCommentAdded, 1, `{"at":"yesterday"}`, nil, "unmarshal CommentAdded"},
		{"year out of range in UTC", TypeCommentAdded, 1, `{"at":"0000-01-01T00:00:00+01:00"}`, nil, "outside years"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Unmarshal(tc.typ, tc.version, []byte(tc.data))
			if err == nil {
				t.Fatalf("Unmarshal = %#v, want an error", e)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

func TestUnmarshalVersionZeroIsOne(t *testing.T) {
	t.Parallel()
	e, err := Unmarshal(TypeReminderSent, 0, []byte(`{"kind":"poke"}`))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := e.(ReminderSent); !ok || r.Kind != ReminderPoke {
		t.Fatalf("got %#v", e)
	}
}

func TestMarshalNil(t *testing.T) {
	t.Parallel()
	if _, _, _, err := Marshal(nil); !errors.Is(err, ErrUnknownEventType) {
		t.Fatalf("Marshal(nil) error %v, want ErrUnknownEventType", err)
	}
}

func TestNeedEventTypesAreEventTypes(t *testing.T) {
	t.Parallel()
	all := EventTypes()
	for _, typ := range NeedEventTypes() {
		if !slices.Contains(all, typ) {
			t.Errorf("need event type %q unknown", typ)
		}
	}
	if len(NeedEventTypes()) != 7 {
		t.Fatalf("%d need event types, want 7", len(NeedEventTypes()))
	}
}

func TestStreams(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("0190d5a2-1234-7000-8000-00000000abcd")
	for _, tc := range []struct {
		stream string
		kind   string
	}{
		{NeedStream(id), "need"},
		{OrganisationStream(id), "organisation"},
		{ReferentStream(id), "referent"},
		{UserStream(id), "user"},
		{ImportStream(id), "import"},
		{SFListStream(id), "sflist"},
	} {
		if want := tc.kind + "-" + id.String(); tc.stream != want {
			t.Errorf("stream %q, want %q", tc.stream, want)
		}
		if got := StreamKind(tc.stream); got != tc.kind {
			t.Errorf("StreamKind(%q) = %q, want %q", tc.stream, got, tc.kind)
		}
		kind, got, err := ParseStream(tc.stream)
		if err != nil || kind != tc.kind || got != id {
			t.Errorf("ParseStream(%q) = %q, %v, %v", tc.stream, kind, got, err)
		}
	}
	if kind, _, err := ParseStream(TerritoriesStream()); err != nil || kind != KindTerritoryStream {
		t.Errorf("ParseStream(%q) = %q, %v", TerritoriesStream(), kind, err)
	}
	if got := StreamKind("nodash"); got != "" {
		t.Errorf("StreamKind(nodash) = %q, want empty", got)
	}
	for _, bad := range []string{"nodash", "ship-" + id.String(), "need-xyz", "need-" + strings.ToUpper(id.String()), "need-{" + id.String() + "}"} {
		if _, _, err := ParseStream(bad); !errors.Is(err, ErrValidation) {
			t.Errorf("ParseStream(%q) error %v, want ErrValidation", bad, err)
		}
	}
}

func TestStreamOf(t *testing.T) {
	t.Parallel()
	for _, e := range sampleEvents(t) {
		s, err := StreamOf(e)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"NeedCaptured": "need", "NeedForwarded": "need", "MatchStatusChanged": "need", "CommentAdded": "need",
			"ReminderSent": "need", "NeedAbandoned": "need", "ContactErased": "need",
			"OrganisationCreated": "organisation", "AntenneCreated": "organisation",
			"ReferentRegistered": "referent", "ReferentCoverageChanged": "referent", "ReferentDeactivated": "referent",
			"UserRegistered": "user", "NotificationSent": "notification", "NotificationFailed": "notification",
			"ReferentDetailsChanged": "referent", "ReferentReactivated": "referent",
			"DirectoryImported": "import", "TerritoryOpened": "territory",
			"SignauxFaiblesListImported": "sflist", "SignauxFaiblesLinesRecorded": "sflist",
		}[e.EventType()]
		if StreamKind(s) != want {
			t.Errorf("StreamOf(%s) = %q, want kind %q", e.EventType(), s, want)
		}
	}
	if _, err := StreamOf(nil); !errors.Is(err, ErrUnknownEventType) {
		t.Fatalf("StreamOf(nil) error %v", err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, e := range sampleEvents(f) {
		typ, ver, data, err := Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(typ, ver, data)
	}
	f.Add("NeedCaptured", 1, []byte(`{"contact":{"ciphertext":""}}`))
	f.Add("NeedForwarded", 1, []byte(`{"referents":null}`))
	f.Add("CommentAdded", 1, []byte(`{"at":"2026-03-02T10:00:00+01:00","text":"\xff"}`))
	f.Add("Nope", 3, []byte(`null`))
	f.Add("CommentAdded", 1, []byte(`{ "text" : "\u00e9\n\ud834\udd1e" , "at":"2024-02-29T23:59:59.5Z","need_id":null}`))
	f.Add("CommentAdded", 1, []byte(`{"need_id":"{0190d5a2-0000-7000-8000-000000000003}"}`))
	f.Add("ReferentRegistered", 1, []byte(`{"subjects":[],"zones":[null,{"code":"59","level":"departement"}]}`))
	f.Fuzz(func(t *testing.T, typ string, version int, data []byte) {
		// Differential: whatever the hand-written scanner accepts,
		// encoding/json must decode to the same value.
		sameAsJSON(t, typ, data)
		e, err := Unmarshal(typ, version, data)
		if err != nil {
			if e != nil {
				t.Fatalf("Unmarshal returned %#v with error %v", e, err)
			}
			return
		}
		typ2, ver2, data2, err := Marshal(e)
		if err != nil {
			t.Fatalf("Marshal of an accepted event: %v", err)
		}
		if cur, _ := CurrentVersion(typ); typ2 != typ || ver2 != cur {
			t.Fatalf("type, version %q %d after %q %d", typ2, ver2, typ, version)
		}
		e2, err := Unmarshal(typ2, ver2, data2)
		if err != nil {
			t.Fatalf("re-Unmarshal: %v", err)
		}
		// omitempty writes nothing for an empty list of territories,
		// which therefore reads back as nil: the one value Marshal loses.
		if u, ok := e.(UserRegistered); ok && len(u.Territories) == 0 {
			u.Territories = nil
			e = u
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", e2, e)
		}
	})
}
