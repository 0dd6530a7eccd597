package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Valid SIRENs (Luhn) of the tests.
const (
	sirenA = "732829320"
	sirenB = "552100554"
	sirenC = "443061841"
)

func TestParseSFAlertSpellings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		alert   SFAlert
		alerted bool
	}{
		{"F1", SFAlertF1, true}, {"f1", SFAlertF1, true}, {" F2 ", SFAlertF2, true},
		{"Alerte seuil F1", SFAlertF1, true}, {"ALERTE  SEUIL f1", SFAlertF1, true}, {"Alerte seuil F2", SFAlertF2, true},
		{"Pas d'alerte", "", false}, {"pas d’alerte", "", false}, {"PAS  D'ALERTE", "", false},
	} {
		a, ok, err := ParseSFAlert(tc.in)
		if err != nil || a != tc.alert || ok != tc.alerted {
			t.Errorf("ParseSFAlert(%q) = %q, %v, %v; want %q, %v", tc.in, a, ok, err, tc.alert, tc.alerted)
		}
	}
	for _, bad := range []string{"", "  ", "F3", "Alerte", "alerte seuil", "F 1", "Pas alerte"} {
		var ve *ValidationError
		if _, _, err := ParseSFAlert(bad); !errors.As(err, &ve) || ve.Field != "alert" {
			t.Errorf("ParseSFAlert(%q) error %v, want a *ValidationError on alert", bad, err)
		}
	}
	if !SFAlertF1.Valid() || !SFAlertF2.Valid() || SFAlert("F3").Valid() || SFAlert("").Valid() {
		t.Error("Valid: only F1 and F2")
	}
	if got := SFAlerts(); !reflect.DeepEqual(got, []SFAlert{SFAlertF1, SFAlertF2}) {
		t.Errorf("SFAlerts() = %v", got)
	}
}

func TestParseSFLine(t *testing.T) {
	t.Parallel()
	line, alerted, periode, err := ParseSFLine(SFLineInput{SIREN: "732 829 320", Score: " 0,873 ", Alert: "Alerte seuil F1",
		Periode: "2026-03-01", Batch: "2603", Algo: " avec_urssaf ", Commune: "2a004"})
	if err != nil || !alerted || periode != "2026-03" {
		t.Fatalf("ParseSFLine: %v, %v, %q", err, alerted, periode)
	}
	want := SFLine{SIREN: sirenA, Alert: SFAlertF1, Score: 0.873, Algo: "avec_urssaf", Batch: "2603", Commune: "2A004"}
	if line != want {
		t.Fatalf("line %+v, want %+v", line, want)
	}
	if _, alerted, _, err := ParseSFLine(SFLineInput{SIREN: sirenB, Score: "0.1", Alert: "Pas d'alerte"}); err != nil || alerted {
		t.Fatalf("a line without alert: %v, alerted %v", err, alerted)
	}
	if l, _, _, err := ParseSFLine(SFLineInput{SIREN: sirenB, Score: "-0", Alert: "F2"}); err != nil || math.Signbit(l.Score) {
		t.Fatalf("score -0: %v, %v", l.Score, err)
	}
	for _, tc := range []struct {
		name   string
		in     SFLineInput
		fields []string
	}{
		{"bad key", SFLineInput{SIREN: "732829321", Score: "0.5", Alert: "F1"}, []string{"siren"}},
		{"short siren", SFLineInput{SIREN: "7328293", Score: "0.5", Alert: "F1"}, []string{"siren"}},
		{"score above 1", SFLineInput{SIREN: sirenA, Score: "1.2", Alert: "F1"}, []string{"score"}},
		{"negative score", SFLineInput{SIREN: sirenA, Score: "-0.1", Alert: "F1"}, []string{"score"}},
		{"score not a number", SFLineInput{SIREN: sirenA, Score: "haut", Alert: "F1"}, []string{"score"}},
		{"score NaN", SFLineInput{SIREN: sirenA, Score: "NaN", Alert: "F1"}, []string{"score"}},
		{"missing score", SFLineInput{SIREN: sirenA, Alert: "F1"}, []string{"score"}},
		{"unknown alert", SFLineInput{SIREN: sirenA, Score: "0.5", Alert: "rouge"}, []string{"alert"}},
		{"bad periode", SFLineInput{SIREN: sirenA, Score: "0.5", Alert: "F1", Periode: "mars"}, []string{"periode"}},
		{"bad commune", SFLineInput{SIREN: sirenA, Score: "0.5", Alert: "F1", Commune: "5935"}, []string{"code_commune"}},
		{"bad commune letters", SFLineInput{SIREN: sirenA, Score: "0.5", Alert: "F1", Commune: "59A50"}, []string{"code_commune"}},
		{"long algo", SFLineInput{SIREN: sirenA, Score: "0.5", Alert: "F1", Algo: strings.Repeat("a", 65)}, []string{"algo"}},
		{"control in batch", SFLineInput{SIREN: sirenA, Score: "0.5", Alert: "F1", Batch: "26\x0003"}, []string{"batch"}},
		{"invalid UTF-8 algo", SFLineInput{SIREN: sirenA, Score: "0.5", Alert: "F1", Algo: "\xff"}, []string{"algo"}},
		{"everything", SFLineInput{SIREN: "1", Score: "2", Alert: "x"}, []string{"siren", "score", "alert"}},
	} {
		_, _, _, err := ParseSFLine(tc.in)
		var fields []string
		var ves ValidationErrors
		var ve *ValidationError
		switch {
		case errors.As(err, &ves):
			for _, v := range ves {
				fields = append(fields, v.Field)
			}
		case errors.As(err, &ve):
			fields = []string{ve.Field}
		}
		if !reflect.DeepEqual(fields, tc.fields) {
			t.Errorf("%s: error %v, fields %v, want %v", tc.name, err, fields, tc.fields)
		}
	}
}

func TestParseSFPeriodAndLabel(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"2026-03": "2026-03", " 2026-03-01 ": "2026-03", "2026-03-31T23:00:00Z": "2026-03",
		"2026-03-01 00:00:00": "2026-03", "2026-03-01T00:00:00": "2026-03", "2026-03-01T00:00:00+01:00": "2026-03"} {
		if got, err := ParseSFPeriod(in); err != nil || got != want {
			t.Errorf("ParseSFPeriod(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "2026", "2026-13", "03/2026", "1999-12", strings.Repeat("9", 100)} {
		if _, err := ParseSFPeriod(bad); !errors.Is(err, ErrValidation) {
			t.Errorf("ParseSFPeriod(%q) error %v", bad, err)
		}
	}
	for in, want := range map[string]string{"2026-03": "Mars 2026", "2025-08": "Août 2025", "2026-12": "Décembre 2026", "x": "x"} {
		if got := SFPeriodLabel(in); got != want {
			t.Errorf("SFPeriodLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

var admin = Actor{ID: mustIDv(0xad), Role: RoleAdmin}

func mustIDv(n byte) [16]byte {
	var id [16]byte
	id[0], id[6], id[8], id[15] = 0x01, 0x70, 0x80, n
	return id
}

func lines3() []SFLine {
	return []SFLine{
		{SIREN: sirenC, Alert: SFAlertF2, Score: 0.41, Commune: "80021"},
		{SIREN: sirenA, Alert: SFAlertF1, Score: 0.92, Algo: "avec_urssaf", Batch: "2603", Commune: "59350"},
		{SIREN: sirenB, Alert: SFAlertF1, Score: 0.77},
	}
}

func mustImport(t *testing.T, l *SFList, in SFListImport, n int, at time.Time) []Event {
	t.Helper()
	before := len(l.Changes())
	if err := l.Import(in, mustID(t, 5000+n), admin, at); err != nil {
		t.Fatalf("import: %v", err)
	}
	return l.Changes()[before:]
}

func TestSFListImport(t *testing.T) {
	t.Parallel()
	l := NewSFList("2026-03")
	if l.ID() != SFListID("2026-03") || SFListID("2026-03") == SFListID("2026-04") {
		t.Fatal("list ids are per period")
	}
	evs := mustImport(t, l, SFListImport{Period: "2026-03", Lines: lines3()}, 1, t0)
	if len(evs) != 2 {
		t.Fatalf("%d events, want a header and one part", len(evs))
	}
	head := evs[0].(SignauxFaiblesListImported)
	if head.Label != "Mars 2026" || head.Lines != 3 || head.F1 != 2 || head.F2 != 1 || head.Parts != 1 || head.Period != "2026-03" ||
		head.By != admin || !head.At.Equal(t0) || len(head.Digest) != 64 {
		t.Fatalf("header %+v", head)
	}
	part := evs[1].(SignauxFaiblesLinesRecorded)
	if part.Part != 1 || part.ImportID != head.ImportID || len(part.Lines) != 3 || part.Lines[0].SIREN != sirenC ||
		part.Lines[1].SIREN != sirenB || part.Lines[2].SIREN != sirenA {
		t.Fatalf("part %+v: lines sorted by SIREN", part)
	}
	if s, _ := StreamOf(head); s != SFListStream(l.ID()) {
		t.Fatalf("stream %q", s)
	}
	// The same content in another order, with the same label: nothing.
	shuffled := lines3()
	shuffled[0], shuffled[2] = shuffled[2], shuffled[0]
	if err := l.Import(SFListImport{Label: " Mars   2026 ", Period: "2026-03", Lines: shuffled}, mustID(t, 5002), admin, t0.Add(time.Hour)); !errors.Is(err, ErrSFListUnchanged) {
		t.Fatalf("same list again: %v, want ErrSFListUnchanged", err)
	}
	// A correction is a new import of the list.
	fixed := lines3()[:2]
	evs = mustImport(t, l, SFListImport{Label: "Mars 2026 (corrigée)", Period: "2026-03", Lines: fixed}, 3, t0.Add(2*time.Hour))
	if h := evs[0].(SignauxFaiblesListImported); h.Lines != 2 || h.Digest == head.Digest {
		t.Fatalf("correction %+v", h)
	}
	if len(l.Imports()) != 2 || l.Version() != 4 {
		t.Fatalf("%d imports, version %d", len(l.Imports()), l.Version())
	}
	last, _ := l.Last()
	if last.Label != "Mars 2026 (corrigée)" || last.Version != 3 {
		t.Fatalf("last import %+v", last)
	}
	// Folding the stream gives the same state.
	f := NewSFList("2026-03")
	for _, e := range l.Changes() {
		if err := f.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(f.Imports(), l.Imports()) {
		t.Fatalf("folded %+v\nrecorded %+v", f.Imports(), l.Imports())
	}
}

func TestSFListImportRefuses(t *testing.T) {
	t.Parallel()
	dup := append(lines3(), SFLine{SIREN: sirenA, Alert: SFAlertF2, Score: 0.3})
	for _, tc := range []struct {
		name string
		in   SFListImport
		at   time.Time
		want string
	}{
		{"no line", SFListImport{Period: "2026-03"}, t0, "no line"},
		{"other period", SFListImport{Period: "2026-04", Lines: lines3()}, t0, "not the list's period"},
		{"long label", SFListImport{Period: "2026-03", Label: strings.Repeat("é", 101), Lines: lines3()}, t0, "at most 100"},
		{"duplicate", SFListImport{Period: "2026-03", Lines: dup}, t0, "given twice"},
		{"bad siren", SFListImport{Period: "2026-03", Lines: []SFLine{{SIREN: "732829321", Alert: SFAlertF1, Score: 0.5}}}, t0, "Luhn"},
		{"no alert", SFListImport{Period: "2026-03", Lines: []SFLine{{SIREN: sirenA, Score: 0.5}}}, t0, "not F1 nor F2"},
		{"NaN", SFListImport{Period: "2026-03", Lines: []SFLine{{SIREN: sirenA, Alert: SFAlertF1, Score: math.NaN()}}}, t0, "outside"},
		{"commune", SFListImport{Period: "2026-03", Lines: []SFLine{{SIREN: sirenA, Alert: SFAlertF1, Score: 0.5, Commune: " 59350"}}}, t0, "commune"},
		{"algo", SFListImport{Period: "2026-03", Lines: []SFLine{{SIREN: sirenA, Alert: SFAlertF1, Score: 0.5, Algo: "a\n"}}}, t0, "algo"},
		{"no instant", SFListImport{Period: "2026-03", Lines: lines3()}, time.Time{}, "instant"},
	} {
		l := NewSFList("2026-03")
		err := l.Import(tc.in, mustID(t, 1), admin, tc.at)
		if !errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a validation error saying %q", tc.name, err, tc.want)
		}
		if len(l.Changes()) != 0 || l.Version() != 0 {
			t.Errorf("%s: a refused import recorded events", tc.name)
		}
	}
	if err := NewSFList("2026-03").Import(SFListImport{Period: "2026-03", Lines: lines3()}, [16]byte{}, admin, t0); !errors.Is(err, ErrValidation) {
		t.Errorf("no import id: %v", err)
	}
}

// A large list is cut into parts that each stay far below the log's limit
// on an event, and folds back whole.
func TestSFListParts(t *testing.T) {
	t.Parallel()
	var lines []SFLine
	for i := 0; len(lines) < 12000; i++ {
		s := sirenWithKey(100000000 + i*7)
		lines = append(lines, SFLine{SIREN: s, Alert: SFAlertF2, Score: float64(i%1000) / 1000, Algo: "algo_é<&>", Batch: "2603", Commune: "59350"})
	}
	l := NewSFList("2026-03")
	evs := mustImport(t, l, SFListImport{Period: "2026-03", Lines: lines}, 1, t0)
	head := evs[0].(SignauxFaiblesListImported)
	if head.Parts < 2 || head.Parts != len(evs)-1 {
		t.Fatalf("%d parts, %d events", head.Parts, len(evs))
	}
	total := 0
	for _, e := range evs {
		_, _, data, err := Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 1<<20 {
			t.Fatalf("%s is %d bytes", e.EventType(), len(data))
		}
		if p, ok := e.(SignauxFaiblesLinesRecorded); ok {
			total += len(p.Lines)
		}
	}
	if total != len(lines) {
		t.Fatalf("%d lines in parts, want %d", total, len(lines))
	}
	h := NewSFHistory()
	for _, e := range evs {
		if err := h.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if r := h.Applying(time.Time{}); r == nil || len(r.SortedLines()) != len(lines) || r.Lines != len(lines) {
		t.Fatalf("folded revision %v", r)
	}
}

// sirenWithKey makes a valid SIREN of n's last eight digits and a key.
func sirenWithKey(n int) string {
	base := fmt.Sprintf("%08d", n%100000000)
	for k := '0'; k <= '9'; k++ {
		if s := base + string(k); luhn(s) {
			return s
		}
	}
	panic("no Luhn key")
}

func TestSFListApplyMismatch(t *testing.T) {
	t.Parallel()
	l := NewSFList("2026-03")
	evs := mustImport(t, l, SFListImport{Period: "2026-03", Lines: lines3()}, 1, t0)
	head, part := evs[0].(SignauxFaiblesListImported), evs[1].(SignauxFaiblesLinesRecorded)
	other := head
	other.ListID = SFListID("2026-04")
	part2 := part
	part2.Part = 2
	for _, tc := range []struct {
		name   string
		events []Event
	}{
		{"header of another list", []Event{other}},
		{"lines before header", []Event{part}},
		{"lines of another list", []Event{head, func() Event { p := part; p.ListID = other.ListID; return p }()}},
		{"part beyond", []Event{head, part, part2}},
		{"header before parts", []Event{head, head}},
		{"need event", []Event{CommentAdded{NeedID: mustID(t, 1)}}},
	} {
		f := NewSFList("2026-03")
		var err error
		for _, e := range tc.events {
			if err = f.Apply(e); err != nil {
				break
			}
		}
		if !errors.Is(err, ErrEventMismatch) {
			t.Errorf("%s: %v, want ErrEventMismatch", tc.name, err)
		}
	}
	h := NewSFHistory()
	if err := h.Apply(part); !errors.Is(err, ErrEventMismatch) {
		t.Errorf("history: lines without header: %v", err)
	}
	wrong := head
	wrong.Period = "2026-04"
	if err := NewSFHistory().Apply(wrong); !errors.Is(err, ErrEventMismatch) {
		t.Errorf("history: list id not its period's: %v", err)
	}
	if err := NewSFHistory().Apply(CommentAdded{}); err != nil {
		t.Errorf("history ignores other events: %v", err)
	}
}

// The flags at a past instant are rebuilt from the log: the list that
// applied then is the latest period among the imports made by then, in its
// last import.
func TestSFHistoryAsOf(t *testing.T) {
	t.Parallel()
	feb, mar := NewSFList("2026-02"), NewSFList("2026-03")
	var log []Event
	log = append(log, CommentAdded{Meta: newMeta(admin, day0(0)), NeedID: mustID(t, 9)})
	log = append(log, mustImport(t, feb, SFListImport{Period: "2026-02", Lines: lines3()[:1]}, 1, day0(1))...)
	log = append(log, mustImport(t, mar, SFListImport{Period: "2026-03", Lines: lines3()[1:]}, 2, day0(10))...)
	// February imported again, corrected, after March: March still applies.
	log = append(log, mustImport(t, feb, SFListImport{Period: "2026-02", Lines: lines3()}, 3, day0(20))...)
	// March corrected: its second import applies.
	corr := []SFLine{{SIREN: sirenA, Alert: SFAlertF2, Score: 0.5}}
	log = append(log, mustImport(t, mar, SFListImport{Period: "2026-03", Label: "Mars bis", Lines: corr}, 4, day0(30))...)
	h := NewSFHistory()
	for _, e := range log {
		if err := h.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.Revisions()); n != 4 {
		t.Fatalf("%d revisions, want 4", n)
	}
	flag := func(at time.Time, siren string) string {
		r := h.Applying(at)
		if r == nil {
			return "no list"
		}
		f, ok := r.Flag(siren)
		if !ok {
			return r.Label + ": -"
		}
		return r.Label + ": " + string(f.Alert)
	}
	for _, tc := range []struct {
		at    time.Time
		siren string
		want  string
	}{
		{day0(0), sirenC, "no list"},
		{day0(1), sirenC, "Février 2026: F2"},
		{day0(5), sirenA, "Février 2026: -"},
		{day0(10), sirenA, "Mars 2026: F1"},
		{day0(10), sirenC, "Mars 2026: -"},
		{day0(25), sirenC, "Mars 2026: -"},
		{day0(25), sirenB, "Mars 2026: F1"},
		{day0(30), sirenA, "Mars bis: F2"},
		{day0(30), sirenB, "Mars bis: -"},
		{time.Time{}, sirenA, "Mars bis: F2"},
	} {
		if got := flag(tc.at, tc.siren); got != tc.want {
			t.Errorf("flag of %s at %s = %q, want %q", tc.siren, tc.at.Format(time.DateOnly), got, tc.want)
		}
	}
	r := h.Applying(time.Time{})
	if f, _ := r.Flag(sirenA); f != (SFFlag{Alert: SFAlertF2, Score: 0.5, List: "Mars bis", Periode: "2026-03"}) {
		t.Fatalf("flag %+v", f)
	}
	if _, ok := r.Line(sirenC); ok {
		t.Fatal("a SIREN the list does not name has a line")
	}
	if !IsSFEvent(log[1]) || IsSFEvent(log[0]) {
		t.Fatal("IsSFEvent")
	}
	if s := r.SFImport.String(); strings.Contains(s, sirenA) || !strings.Contains(s, "2026-03") {
		t.Fatalf("an import names itself without its content: %q", s)
	}
}

// The codec's fast paths read and write the numbers of these events as
// encoding/json does.
func TestSFCodecNumbers(t *testing.T) {
	t.Parallel()
	for _, v := range []float64{0, 1, 0.5, 0.873, 1e-6, 9.99e-7, 1e-7, 5e-324, 1e20, 1e21, 123456789.125, -0.25, math.MaxFloat64} {
		got, ok := appendFloat(nil, v)
		want, err := json.Marshal(v)
		if !ok || err != nil || string(got) != string(want) {
			t.Errorf("appendFloat(%v) = %s, json %s", v, got, want)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, ok := appendFloat(nil, v); ok {
			t.Errorf("appendFloat(%v) accepted", v)
		}
		sameBytesAsJSON(t, SignauxFaiblesLinesRecorded{Lines: []SFLine{{Score: v}}})
	}
	sameBytesAsJSON(t, SignauxFaiblesLinesRecorded{})
	sameBytesAsJSON(t, SignauxFaiblesLinesRecorded{Lines: []SFLine{}})
	sameBytesAsJSON(t, SignauxFaiblesListImported{Lines: -3})
	for _, tc := range []struct {
		typ, data string
		fast      bool
	}{
		{TypeSignauxFaiblesLinesRecorded, `{"part":2,"lines":[{"siren":"1","alert":"F1","score":0.5e1}]}`, true},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":[{"score":-1E-7},{"score":0},{"score":null},null]}`, true},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":null,"part":null}`, true},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":[{"score":1e400}]}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":[{"score":01}]}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":[{"score":.5}]}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":[{"score":1.}]}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":[{"score":1e}]}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":[{"score":"0.5"}]}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":[{"Score":0.5}]}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"lines":[{"score":0.5,"score":0.6}]}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"part":1.5}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"part":1e2}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"part":99999999999999999999}`, false},
		{TypeSignauxFaiblesLinesRecorded, `{"part":-}`, false},
		{TypeSignauxFaiblesListImported, `{"lines":-0,"f1":12,"f2":0,"parts":3,"digest":"x","label":"é"}`, true},
		{TypeSignauxFaiblesListImported, `{"lines":"3"}`, false},
	} {
		if got := sameAsJSON(t, tc.typ, []byte(tc.data)); got != tc.fast {
			t.Errorf("%s %s: fast path %v, want %v", tc.typ, tc.data, got, tc.fast)
		}
	}
}
