package domain

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// sameAsJSON fails t when decodeFast accepts data but gives another value
// than encoding/json (or encoding/json rejects it), and reports whether
// decodeFast accepted it.
func sameAsJSON(t testing.TB, typ string, data []byte) bool {
	t.Helper()
	got, ok := decodeFast(typ, data)
	dec, known := decoders[typ]
	if !known {
		if ok {
			t.Fatalf("decodeFast accepted unknown type %q", typ)
		}
		return false
	}
	if !ok {
		if got != nil {
			t.Fatalf("decodeFast gave %#v and false", got)
		}
		return false
	}
	want, err := dec(data)
	if err != nil {
		t.Fatalf("decodeFast accepted %s %q, encoding/json says %v", typ, data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeFast %s %q:\n got %#v\nwant %#v", typ, data, got, want)
	}
	return true
}

// sameBytesAsJSON fails t when Marshal does not give json.Marshal's bytes,
// or its error.
func sameBytesAsJSON(t testing.TB, e Event) {
	t.Helper()
	_, _, got, err := Marshal(e)
	want, jerr := json.Marshal(e)
	if (err != nil) != (jerr != nil) || err != nil && !strings.Contains(err.Error(), jerr.Error()) {
		t.Fatalf("Marshal(%#v) error %v, json.Marshal error %v", e, err, jerr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Marshal(%#v):\n got %s\nwant %s", e, got, want)
	}
}

func TestDecodeFastTakesMarshalOutput(t *testing.T) {
	t.Parallel()
	for _, e := range append(sampleEvents(t), typicalEvents(t)...) {
		typ, _, data, err := Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if !sameAsJSON(t, typ, data) {
			t.Errorf("%s: the fast path gave up on Marshal's own output %s", typ, data)
		}
		// Whitespace, and keys in another order as a JSON column may
		// store them, stay on the fast path.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		spaced, err := json.MarshalIndent(m, " ", "\t")
		if err != nil {
			t.Fatal(err)
		}
		spaced = append(append([]byte("\r\n"), spaced...), ' ')
		if !sameAsJSON(t, typ, spaced) {
			t.Errorf("%s: the fast path gave up on %s", typ, spaced)
		}
	}
}

func TestDecodeFastMatchesJSON(t *testing.T) {
	t.Parallel()
	const by = `"by":{"id":"0190d5a2-0000-7000-8000-000000000003","role":"animateur"}`
	for _, tc := range []struct {
		typ  string
		data string
		fast bool // whether the fast path must take it
	}{
		{TypeCommentAdded, `{}`, true},
		{TypeCommentAdded, `{"text":null,"at":null,"by":null,"need_id":null}`, true},
		{TypeCommentAdded, `{"text":"a\"b\\c\/d\b\f\n\r\t\u00e9\u0000\u2028\uFFFD<>&é€𝄞"}`, true},
		{TypeCommentAdded, `{"text":"` + strings.Repeat(`\n`, 100) + `"}`, true},
		{TypeCommentAdded, `{"at":"2026-03-02T09:30:15Z",` + by + `}`, true},
		{TypeCommentAdded, `{"at":"2024-02-29T23:59:59.1Z"}`, true},
		{TypeCommentAdded, `{"at":"0000-01-01T00:00:00.000000001Z"}`, true},
		{TypeCommentAdded, `{"at":"9999-12-31T23:59:59.999999999Z"}`, true},
		{TypeCommentAdded, `{"need_id":"{0190d5a2-0000-7000-8000-000000000003}"}`, true},
		{TypeCommentAdded, `{"need_id":"urn:uuid:0190D5A2-0000-7000-8000-000000000003"}`, true},
		{TypeCommentAdded, `{"need_id":"0190d5a200007000800000000000000f"}`, true},
		{TypeNeedCaptured, `{"contact":{"ciphertext":""}}`, true},
		{TypeNeedCaptured, `{"contact":{"ciphertext":null,"key_id":"k"}}`, true},
		{TypeNeedCaptured, `{"contact":null}`, true},
		{TypeNeedForwarded, `{"referents":[]}`, true},
		{TypeNeedForwarded, `{"referents":null}`, true},
		{TypeNeedForwarded, `{"referents":[null,{}]}`, true},
		{TypeReferentRegistered, `{"subjects":[],"zones":[]}`, true},
		{TypeReferentRegistered, `{"subjects":[null,"x"],"zones":[null,{"level":"epci"},{"level":"x","code":null}]}`, true},
		{TypeUserRegistered, `{"territories":[],"role":"nobody"}`, true},
		{TypeReminderSent, `{"kind":"never_heard_of"}`, true},

		// Left to encoding/json: its answer is a value or an error.
		{TypeCommentAdded, `null`, false},
		{TypeCommentAdded, `[]`, false},
		{TypeCommentAdded, ``, false},
		{TypeCommentAdded, `{"text":"a"`, false},
		{TypeCommentAdded, `{"text":"a"}x`, false},
		{TypeCommentAdded, `{"text":"a",}`, false},
		{TypeCommentAdded, `{,"text":"a"}`, false},
		{TypeCommentAdded, `{"text" "a"}`, false},
		{TypeCommentAdded, `{"text":"a" "at":null}`, false},
		{TypeCommentAdded, `{"text":"a","text":"b"}`, false},
		{TypeCommentAdded, `{"by":{"role":"a"},"by":{"id":"0190d5a2-0000-7000-8000-000000000003"}}`, false},
		{TypeCommentAdded, `{"by":{"role":"a","role":"b"}}`, false},
		{TypeCommentAdded, `{"Text":"a"}`, false},
		{TypeCommentAdded, `{"te\u0078t":"a"}`, false},
		{TypeCommentAdded, `{"unknown":1}`, false},
		{TypeCommentAdded, `{"text":3}`, false},
		{TypeCommentAdded, `{"text":nul}`, false},
		{TypeCommentAdded, `{"text":"\ud834\udd1e"}`, false},
		{TypeCommentAdded, `{"text":"\ud834"}`, false},
		{TypeCommentAdded, `{"text":"\u12"}`, false},
		{TypeCommentAdded, `{"text":"\x"}`, false},
		{TypeCommentAdded, "{\"text\":\"\xff\"}", false},
		{TypeCommentAdded, "{\"text\":\"\\n\xff\"}", false},
		{TypeCommentAdded, "{\"text\":\"a\tb\"}", false},
		{TypeCommentAdded, "{\"text\":\"\\na\tb\"}", false},
		{TypeCommentAdded, `{"text":"\`, false},
		{TypeCommentAdded, `{"text":"\n`, false},
		{TypeCommentAdded, `{"need_id":"nope"}`, false},
		{TypeCommentAdded, `{"need_id":"0190d5a2-0000-7000-8000-00000000000\u0033"}`, false},
		// uuid.ParseBytes does not look at the first and last bytes of
		// the 38-byte form ({...}): they must still be plain JSON.
		{TypeCommentAdded, `{"need_id":"\b190d5a2-0000-7000-8000-000000000003Z"}`, false},
		{TypeCommentAdded, `{"need_id":"{0190d5a2-0000-7000-8000-000000000003\"}`, false},
		{TypeCommentAdded, "{\"need_id\":\"\xff0190d5a2-0000-7000-8000-000000000003}\"}", false},
		{TypeCommentAdded, "{\"need_id\":\"\t0190d5a2-0000-7000-8000-000000000003}\"}", false},
		{TypeCommentAdded, `{"at":"2026-03-02T10:00:00+01:00"}`, false},
		{TypeCommentAdded, `{"at":"2026-03-02T10:00:00.Z"}`, false},
		{TypeCommentAdded, `{"at":"2026-03-02T10:00:00.1234567891Z"}`, false},
		{TypeCommentAdded, `{"at":"2026-03-02T10:00:00,1Z"}`, false},
		{TypeCommentAdded, `{"at":"2025-02-29T10:00:00Z"}`, false},
		{TypeCommentAdded, `{"at":"2026-04-31T10:00:00Z"}`, false},
		{TypeCommentAdded, `{"at":"2026-13-01T10:00:00Z"}`, false},
		{TypeCommentAdded, `{"at":"2026-03-02T24:00:00Z"}`, false},
		{TypeCommentAdded, `{"at":"2026-03-02T10:00:60Z"}`, false},
		{TypeCommentAdded, `{"at":"2026-03-02t10:00:00z"}`, false},
		{TypeCommentAdded, `{"at":"2026-03-02 10:00:00Z"}`, false},
		{TypeCommentAdded, `{"at":"+026-03-02T10:00:00Z"}`, false},
		{TypeNeedCaptured, `{"contact":{"ciphertext":"AAA"}}`, false},
		{TypeNeedCaptured, `{"contact":{"ciphertext":"AA\nAA=="}}`, false},
		{TypeNeedCaptured, `{"contact":{"ciphertext":"AA\u0041A=="}}`, false},
		{TypeNeedCaptured, `{"contact":{"other":1}}`, false},
		{TypeNeedCaptured, `{"contact":[]}`, false},
		{TypeNeedForwarded, `{"referents":[{"referent_id":"x"}]}`, false},
		{TypeNeedForwarded, `{"referents":[{},]}`, false},
		{TypeNeedForwarded, `{"referents":[{} {}]}`, false},
		{TypeNeedForwarded, `{"referents":{}}`, false},
		{TypeNeedForwarded, `{"referents":[{"x":1}]}`, false},
		{TypeNeedForwarded, `{"referents":[{"referent_id":null,"referent_id":null}]}`, false},
		{TypeReferentRegistered, `{"zones":[{"level":"epci","code":"1","code":"2"}]}`, false},
		{TypeReferentRegistered, `{"zones":[{"Level":"epci"}]}`, false},
		{TypeReferentRegistered, `{"zones":[1]}`, false},
		{TypeReferentRegistered, `{"subjects":[1]}`, false},
		{"Nope", `{}`, false},
	} {
		if got := sameAsJSON(t, tc.typ, []byte(tc.data)); got != tc.fast {
			t.Errorf("%s %s: fast path %v, want %v", tc.typ, tc.data, got, tc.fast)
		}
	}
}

func TestEncodeFastMatchesJSON(t *testing.T) {
	t.Parallel()
	for _, e := range append(sampleEvents(t), typicalEvents(t)...) {
		sameBytesAsJSON(t, e)
	}
	m := Meta{At: t0, By: system}
	paris := time.FixedZone("Paris", 3600)
	for _, e := range []Event{
		CommentAdded{Meta: m, Text: "<a href=\"x\">&amp;</a>\u2028\u2029\x00\x1f\x7f\b\f\t\r\n\\ é€𝄞 \xff\xc3 \xed\xa0\x80"},
		CommentAdded{},
		CommentAdded{Meta: Meta{At: t0.In(paris)}},
		CommentAdded{Meta: Meta{At: t0.In(time.FixedZone("", 0))}},
		CommentAdded{Meta: Meta{At: t0.In(time.FixedZone("", -(23*3600 + 59*60 + 59)))}},
		CommentAdded{Meta: Meta{At: t0.In(time.FixedZone("", 24*3600))}},
		CommentAdded{Meta: Meta{At: t0.In(time.FixedZone("", -24*3600))}},
		CommentAdded{Meta: Meta{At: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		CommentAdded{Meta: Meta{At: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).In(paris)}},
		CommentAdded{Meta: Meta{At: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)}},
		CommentAdded{Meta: Meta{At: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).In(paris)}},
		CommentAdded{Meta: Meta{At: time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC)}},
		CommentAdded{Meta: Meta{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		CommentAdded{Meta: Meta{At: time.Now()}}, // with a monotonic reading
		NeedCaptured{Contact: SealedContact{Ciphertext: []byte{}}},
		NeedForwarded{},
		NeedForwarded{Referents: []MatchRef{}},
		MatchStatusChanged{Comment: ""},
		AntenneCreated{Zone: National},
		ReferentRegistered{Subjects: []string{}, Zones: []Zone{}},
		UserRegistered{Territories: []Zone{}},
		&CommentAdded{Text: "a pointer"},
		otherEvent{Meta: m, X: 1},
	} {
		sameBytesAsJSON(t, e)
	}
}

// otherEvent is an Event the codec does not know: Marshal encodes it with
// encoding/json.
type otherEvent struct {
	Meta
	X int `json:"x"`
}

func (otherEvent) EventType() string  { return "Other" }
func (otherEvent) SchemaVersion() int { return 1 }

func FuzzMarshal(f *testing.F) {
	f.Add("k", "Société « Été » & Cie", []byte{0, 255}, int64(1772443815), int64(123456789), 0, uint8(0))
	f.Add("", "<\u2028\x00\xff\"\\", []byte(nil), int64(-62167219200), int64(0), 3600, uint8(255))
	f.Add("national", "", []byte{}, int64(253402300799), int64(999999999), -86399, uint8(1))
	f.Fuzz(func(t *testing.T, a, b string, p []byte, sec, nsec int64, offset int, flags uint8) {
		at := time.Unix(sec, nsec)
		if offset == 0 && flags&1 == 0 {
			at = at.UTC()
		} else {
			at = at.In(time.FixedZone(a, offset))
		}
		id := uuid.UUID{byte(sec), byte(nsec), 2: byte(offset), 15: flags}
		m := Meta{At: at, By: Actor{ID: id, Role: Role(a)}}
		var zones []Zone
		var strs []string
		if flags&2 != 0 {
			zones = []Zone{{Level: ZoneLevel(a), Code: b}, {Level: ZoneLevel(b)}}
			strs = []string{a, b}
		} else if flags&4 != 0 {
			zones, strs = []Zone{}, []string{}
		}
		var refs []MatchRef
		if flags&8 != 0 {
			refs = []MatchRef{{ReferentID: id}, {OrganisationID: id}}
		} else if flags&16 != 0 {
			refs = []MatchRef{}
		}
		for _, e := range []Event{
			NeedCaptured{Meta: m, NeedID: id, SIRET: a, CompanyName: b, Commune: a, Subject: b, Description: a + b,
				Contact: SealedContact{KeyID: b, Ciphertext: p}, AdvisorID: id},
			NeedForwarded{Meta: m, NeedID: id, Referents: refs},
			MatchStatusChanged{Meta: m, NeedID: id, ReferentID: id, From: MatchStatus(a), To: MatchStatus(b), Comment: b},
			CommentAdded{Meta: m, NeedID: id, Text: b},
			ReminderSent{Meta: m, NeedID: id, Kind: ReminderKind(b)},
			NeedAbandoned{Meta: m, NeedID: id, Reason: b},
			ContactErased{Meta: m, NeedID: id, KeyID: b},
			OrganisationCreated{Meta: m, OrganisationID: id, Name: a, Kind: OrganisationKind(b)},
			AntenneCreated{Meta: m, OrganisationID: id, AntenneID: id, Name: a, Zone: Zone{Level: ZoneLevel(a), Code: b}},
			ReferentRegistered{Meta: m, ReferentID: id, OrganisationID: id, Name: a, Email: b, Subjects: strs, Zones: zones},
			ReferentCoverageChanged{Meta: m, ReferentID: id, Subjects: strs, Zones: zones},
			ReferentDeactivated{Meta: m, ReferentID: id},
			UserRegistered{Meta: m, UserID: id, Name: a, Email: b, Role: Role(b), ReferentID: id, Territories: zones},
		} {
			sameBytesAsJSON(t, e)
			typ, ver, data, err := Marshal(e)
			if err != nil {
				continue
			}
			// What Marshal writes, the fast path reads back, invalid UTF-8
			// included (written as \ufffd), when the instant is in UTC.
			_, off := at.Zone()
			if sameAsJSON(t, typ, data) != (off == 0) {
				t.Fatalf("fast path on %s: %v", data, off != 0)
			}
			if _, err := Unmarshal(typ, ver, data); err != nil && off == 0 {
				t.Fatalf("Unmarshal(%s): %v", data, err)
			}
		}
	})
}

func TestPlainRuns(t *testing.T) {
	t.Parallel()
	// Every byte value at every place of two eight-byte words and a tail,
	// after every other: the word-at-a-time tests must stop exactly where
	// the byte-by-byte definitions do.
	for _, fill := range []byte{'a', ' ', '~', 0x7f} {
		for c := 0; c < 256; c++ {
			for p := 0; p < 19; p++ {
				b := bytes.Repeat([]byte{fill}, 19)
				b[p] = byte(c)
				want := 19
				if byte(c) < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
					want = p
				}
				if got := plainRun(b); got != want {
					t.Fatalf("plainRun(%q) = %d, want %d", b, got, want)
				}
				want = 19
				if c >= 0x80 || !plainByte[c] {
					want = p
				}
				if got := htmlPlainRun(string(b)); got != want {
					t.Fatalf("htmlPlainRun(%q) = %d, want %d", b, got, want)
				}
			}
		}
	}
}

// TestAppendJSONString: the exported appender writes what json.Marshal
// writes for a string, escapes included.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "Lille", `a "b" \c`, "<b>&</b>", "é\u2028\x01\xff"} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("AppendJSONString(%q) = %s, want x%s", s, got, want)
		}
	}
}

// TestAppendJSONFloat: the exported appender writes what json.Marshal
// writes for a float64, and refuses what it refuses.
func TestAppendJSONFloat(t *testing.T) {
	for _, v := range []float64{0, 1, 0.5, 1e-7, 1e21, -2.5e-9, 123456.789} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := AppendJSONFloat(nil, v); !ok || string(got) != string(want) {
			t.Errorf("AppendJSONFloat(%v) = %s, %v, want %s", v, got, ok, want)
		}
	}
	if _, ok := AppendJSONFloat(nil, math.NaN()); ok {
		t.Error("NaN accepted")
	}
}
