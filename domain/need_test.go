package domain

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestCaptureRecordsNormalisedEvent(t *testing.T) {
	t.Parallel()
	n := mustCaptured(t)
	ch := n.Changes()
	if len(ch) != 1 {
		t.Fatalf("%d changes, want 1", len(ch))
	}
	want := NeedCaptured{
		Meta: Meta{At: t0, By: advisor}, NeedID: n.ID(), SIRET: "73282932000074", CompanyName: "Boulangerie Dupont",
		Commune: "59350", Subject: "recruitment", Description: "Cherche deux boulangers.",
		Contact: SealedContact{KeyID: "key-1", Ciphertext: []byte{1, 2, 3}}, AdvisorID: advisor.ID,
	}
	if !reflect.DeepEqual(ch[0], want) {
		t.Fatalf("event\n got %#v\nwant %#v", ch[0], want)
	}
	if !reflect.DeepEqual(n.Captured(), want) || !n.CapturedAt().Equal(t0) || !n.Exists() {
		t.Fatalf("state %#v", n.Captured())
	}
	if n.Status() != NeedCapturedStatus || n.Version() != 1 || n.LoadedVersion() != 0 {
		t.Fatalf("status %s version %d loaded %d", n.Status(), n.Version(), n.LoadedVersion())
	}
	n.ClearChanges()
	if len(n.Changes()) != 0 || n.Version() != 1 || n.LoadedVersion() != 1 {
		t.Fatalf("after ClearChanges: %d changes, version %d, loaded %d", len(n.Changes()), n.Version(), n.LoadedVersion())
	}
}

func TestCaptureValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		field string
		edit  func(*Capture)
	}{
		{"siret", func(c *Capture) { c.SIRET = "73282932000075" }},
		{"company_name", func(c *Capture) { c.CompanyName = "   " }},
		{"company_name", func(c *Capture) { c.CompanyName = strings.Repeat("é", MaxCompanyNameLen+1) }},
		{"company_name", func(c *Capture) { c.CompanyName = "a\xffb" }},
		{"commune", func(c *Capture) { c.Commune = "59999" }},
		{"commune", func(c *Capture) { c.Commune = "" }},
		{"subject", func(c *Capture) { c.Subject = "astrology" }},
		{"description", func(c *Capture) { c.Description = "" }},
		{"contact", func(c *Capture) { c.Contact.KeyID = "" }},
		{"contact", func(c *Capture) { c.Contact.Ciphertext = nil }},
		{"advisor_id", func(c *Capture) { c.AdvisorID = uuid.Nil }},
		{"need_id", func(c *Capture) { c.NeedID = uuid.New() }},
		{"naf_code", func(c *Capture) { c.NAFCode = "10.71" }},
		{"naf_code", func(c *Capture) { c.NAFCode = "boulangerie" }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			t.Parallel()
			c := validCapture(t)
			tc.edit(&c)
			n := NewNeed(mustID(t, 1000))
			err := n.Capture(c, nil, advisor, t0)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field || !errors.Is(err, ErrValidation) {
				t.Fatalf("error %v, want a ValidationError on %s", err, tc.field)
			}
			if n.Exists() || n.Version() != 0 || len(n.Changes()) != 0 {
				t.Fatal("a refused capture changed the need")
			}
		})
	}
}

func TestCaptureReportsEveryRefusedField(t *testing.T) {
	t.Parallel()
	c := validCapture(t)
	c.Subject, c.Description, c.Commune = "astrology", " ", "59999"
	err := NewNeed(mustID(t, 1001)).Capture(c, nil, advisor, t0)
	var ves ValidationErrors
	if !errors.As(err, &ves) {
		t.Fatalf("error %v, want ValidationErrors", err)
	}
	var fields []string
	for _, ve := range ves {
		fields = append(fields, ve.Field)
	}
	if strings.Join(fields, ",") != "commune,subject,description" {
		t.Fatalf("fields %v, want commune, subject and description in form order", fields)
	}
}

func TestCaptureRefusals(t *testing.T) {
	t.Parallel()
	n := mustCaptured(t)
	if err := n.Capture(validCapture(t), nil, advisor, t0); !errors.Is(err, ErrAlreadyCaptured) {
		t.Fatalf("second capture: %v", err)
	}
	c := validCapture(t)
	c.NeedID = mustID(t, 1000)
	if err := NewNeed(mustID(t, 1000)).Capture(c, nil, advisor, time.Time{}); !isField(err, "at") {
		t.Fatalf("zero instant: %v", err)
	}
	if err := NewNeed(mustID(t, 1000)).Capture(c, nil, advisor, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); !isField(err, "at") {
		t.Fatalf("year 10000: %v", err)
	}
	if err := NewNeed(uuid.Nil).Capture(c, nil, advisor, t0); !isField(err, "need_id") {
		t.Fatalf("nil need id: %v", err)
	}
	if err := NewNeed(mustID(t, 1000)).Capture(c, nil, advisor, t0); err != nil {
		t.Fatalf("capture with the need's own id: %v", err)
	}
}

func isField(err error, field string) bool {
	var ve *ValidationError
	return errors.As(err, &ve) && ve.Field == field
}

// TestCommandsOnMissingNeed: every command but Capture refuses a need that
// was never captured.
func TestCommandsOnMissingNeed(t *testing.T) {
	t.Parallel()
	id := mustID(t, 1)
	for name, cmd := range map[string]func(*Need) error{
		"forward":     func(n *Need) error { return n.Forward(refs(t, 1, 1), advisor, t0) },
		"change":      func(n *Need) error { return n.ChangeMatch(id, MatchTakingCare, "", referent, t0) },
		"take charge": func(n *Need) error { return n.TakeCharge(id, referent, t0) },
		"decline":     func(n *Need) error { return n.Decline(id, "no", referent, t0) },
		"close":       func(n *Need) error { return n.Close(id, MatchDone, "", referent, t0) },
		"reopen":      func(n *Need) error { return n.Reopen(id, "", referent, t0) },
		"comment":     func(n *Need) error { return n.Comment("hello", advisor, t0) },
		"remind":      func(n *Need) error { return n.Remind(ReminderPoke, animateur, t0) },
		"abandon":     func(n *Need) error { return n.Abandon("why", animateur, t0) },
		"erase":       func(n *Need) error { return n.EraseContact(system, t0) },
	} {
		if err := cmd(NewNeed(mustID(t, 1000))); !errors.Is(err, ErrNeedNotFound) {
			t.Errorf("%s: %v, want ErrNeedNotFound", name, err)
		}
	}
}

func TestForward(t *testing.T) {
	t.Parallel()
	n := mustForwarded(t, 2)
	at, ok := n.ForwardedAt()
	if !ok || !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ForwardedAt %v %v", at, ok)
	}
	if n.Status() != NeedQuo {
		t.Fatalf("status %s", n.Status())
	}
	// Forwarding again adds referents; the first forward time stays.
	mustDo(t, n.Forward(refs(t, 3, 3), animateur, day0(3)))
	ms := n.Matches()
	if len(ms) != 3 || ms[0].ReferentID != mustID(t, 1) || ms[1].ReferentID != mustID(t, 2) || ms[2].ReferentID != mustID(t, 3) {
		t.Fatalf("matches %+v", ms)
	}
	if ms[2].OrganisationID != mustID(t, 103) || !ms[2].SentAt.Equal(day0(3)) || ms[2].Status != MatchQuo || len(ms[2].Transitions) != 0 {
		t.Fatalf("third match %+v", ms[2])
	}
	if at2, _ := n.ForwardedAt(); !at2.Equal(at) {
		t.Fatalf("ForwardedAt moved to %v", at2)
	}
	for _, tc := range []struct {
		name  string
		refs  []MatchRef
		check func(error) bool
	}{
		{"already matched", refs(t, 2, 4), func(err error) bool { return errors.Is(err, ErrAlreadyMatched) }},
		{"empty", nil, func(err error) bool { return isField(err, "referents") }},
		{"twice in list", append(refs(t, 5, 5), refs(t, 5, 5)...), func(err error) bool { return isField(err, "referents") }},
		{"nil referent", []MatchRef{{OrganisationID: mustID(t, 1)}}, func(err error) bool { return isField(err, "referents") }},
		{"nil organisation", []MatchRef{{ReferentID: mustID(t, 9)}}, func(err error) bool { return isField(err, "referents") }},
	} {
		if err := n.Forward(tc.refs, advisor, day0(4)); !tc.check(err) {
			t.Errorf("%s: error %v", tc.name, err)
		}
	}
	if len(n.Matches()) != 3 || n.Version() != 3 {
		t.Fatalf("refused forwards changed the need: %d matches, version %d", len(n.Matches()), n.Version())
	}
}

func TestMatchesSortedBySentTimeThenID(t *testing.T) {
	t.Parallel()
	n := mustCaptured(t)
	// Referent 9 is sent first, then 3 and 5 together.
	mustDo(t, n.Forward(refs(t, 9, 9), advisor, day0(1)))
	mustDo(t, n.Forward([]MatchRef{refs(t, 5, 5)[0], refs(t, 3, 3)[0]}, advisor, day0(2)))
	var got []uuid.UUID
	for _, m := range n.Matches() {
		got = append(got, m.ReferentID)
	}
	want := []uuid.UUID{mustID(t, 9), mustID(t, 3), mustID(t, 5)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestChangeMatchErrors(t *testing.T) {
	t.Parallel()
	n := mustForwarded(t, 1)
	if err := n.ChangeMatch(mustID(t, 7), MatchTakingCare, "", referent, day0(1)); !errors.Is(err, ErrMatchNotFound) {
		t.Fatalf("unknown referent: %v", err)
	}
	if err := n.ChangeMatch(mustID(t, 1), "finished", "", referent, day0(1)); !isField(err, "status") {
		t.Fatalf("unknown status: %v", err)
	}
	if err := n.Close(mustID(t, 1), MatchTakingCare, "", referent, day0(1)); !isField(err, "status") {
		t.Fatalf("close to a non-closed status: %v", err)
	}
	if err := n.ChangeMatch(mustID(t, 1), MatchTakingCare, strings.Repeat("x", MaxCommentLen+1), referent, day0(1)); !isField(err, "comment") {
		t.Fatalf("long comment: %v", err)
	}
	if err := n.TakeCharge(mustID(t, 1), referent, time.Time{}); !isField(err, "at") {
		t.Fatalf("zero instant: %v", err)
	}
	if n.Version() != 2 {
		t.Fatalf("refusals changed the version to %d", n.Version())
	}
}

// TestHistoryIsKept: a match taken in charge, closed, reopened, declined,
// reopened and closed again keeps every step, and the need's times answer
// the funders' questions.
func TestHistoryIsKept(t *testing.T) {
	t.Parallel()
	n := mustForwarded(t, 2)
	r1, r2 := mustID(t, 1), mustID(t, 2)
	mustDo(t, n.Decline(r2, "  pas mon secteur ", referent, day0(1)))
	if _, ok := n.FirstTakeChargeAt(); ok {
		t.Fatal("a decline is not a take-charge")
	}
	if n.Status() != NeedQuo {
		t.Fatalf("status %s", n.Status())
	}
	mustDo(t, n.TakeCharge(r1, referent, day0(2)))
	mustDo(t, n.Close(r1, MatchDone, "aide proposée", referent, day0(5)))
	if at, ok := n.ClosedAt(); !ok || !at.Equal(day0(5)) || n.Status() != NeedDone {
		t.Fatalf("closed %v %v, status %s", at, ok, n.Status())
	}
	mustDo(t, n.Reopen(r1, "erreur", animateur, day0(6)))
	if _, ok := n.ClosedAt(); ok || n.Status() != NeedQuo {
		t.Fatalf("reopened need still closed, status %s", n.Status())
	}
	mustDo(t, n.TakeCharge(r1, referent, day0(7)))
	mustDo(t, n.Close(r1, MatchDoneNoHelp, "", referent, day0(8)))

	m, ok := n.Match(r1)
	if !ok {
		t.Fatal("match lost")
	}
	want := []Transition{
		{From: MatchQuo, To: MatchTakingCare, At: day0(2), By: referent},
		{From: MatchTakingCare, To: MatchDone, At: day0(5), By: referent, Comment: "aide proposée"},
		{From: MatchDone, To: MatchQuo, At: day0(6), By: animateur, Comment: "erreur"},
		{From: MatchQuo, To: MatchTakingCare, At: day0(7), By: referent},
		{From: MatchTakingCare, To: MatchDoneNoHelp, At: day0(8), By: referent},
	}
	if !reflect.DeepEqual(m.Transitions, want) {
		t.Fatalf("transitions\n got %+v\nwant %+v", m.Transitions, want)
	}
	if m.Reopenings() != 1 || m.TakenCareOfAt == nil || !m.TakenCareOfAt.Equal(day0(2)) || m.ClosedAt == nil || !m.ClosedAt.Equal(day0(8)) {
		t.Fatalf("match times: reopenings %d taken %v closed %v", m.Reopenings(), m.TakenCareOfAt, m.ClosedAt)
	}
	if at, ok := n.FirstTakeChargeAt(); !ok || !at.Equal(day0(2)) {
		t.Fatalf("FirstTakeChargeAt %v %v", at, ok)
	}
	if at, ok := n.ClosedAt(); !ok || !at.Equal(day0(8)) || n.Status() != NeedDoneNoHelp {
		t.Fatalf("ClosedAt %v %v status %s", at, ok, n.Status())
	}
	m2, _ := n.Match(r2)
	if m2.Status != MatchNotForMe || m2.Transitions[0].Comment != "pas mon secteur" || m2.TakenCareOfAt != nil || m2.ClosedAt != nil {
		t.Fatalf("declined match %+v", m2)
	}
	// The copies handed out do not alias the state.
	m.Transitions[0].Comment = "tampered"
	*m.TakenCareOfAt = time.Time{}
	if again, _ := n.Match(r1); again.Transitions[0].Comment != "" || !again.TakenCareOfAt.Equal(day0(2)) {
		t.Fatal("Match returned state that callers can change")
	}
	if _, ok := n.Match(mustID(t, 42)); ok {
		t.Fatal("match of an unknown referent")
	}
}

func TestClosedAtKeepsFirstCloseOfSameStatus(t *testing.T) {
	t.Parallel()
	n := mustForwarded(t, 3)
	r1, r2, r3 := mustID(t, 1), mustID(t, 2), mustID(t, 3)
	mustDo(t, n.TakeCharge(r1, referent, day0(1)))
	mustDo(t, n.Close(r1, MatchDoneNotReachable, "", referent, day0(2)))
	mustDo(t, n.TakeCharge(r2, referent, day0(3)))
	// Still done_not_reachable (rule 4 beats taking_care).
	if at, _ := n.ClosedAt(); !at.Equal(day0(2)) || n.Status() != NeedDoneNotReachable {
		t.Fatalf("ClosedAt %v status %s", at, n.Status())
	}
	mustDo(t, n.Close(r2, MatchDone, "", referent, day0(4)))
	if at, _ := n.ClosedAt(); !at.Equal(day0(4)) || n.Status() != NeedDone {
		t.Fatalf("ClosedAt %v status %s, want day 4 done", at, n.Status())
	}
	mustDo(t, n.TakeCharge(r3, referent, day0(5)))
	mustDo(t, n.Close(r3, MatchDone, "", referent, day0(6)))
	if at, _ := n.ClosedAt(); !at.Equal(day0(4)) {
		t.Fatalf("ClosedAt %v, want day 4: the need was already done", at)
	}
}

func TestCommentAndRemind(t *testing.T) {
	t.Parallel()
	n := mustCaptured(t)
	if err := n.Remind(ReminderPoke, animateur, day0(1)); !errors.Is(err, ErrNotForwarded) {
		t.Fatalf("remind before forward: %v", err)
	}
	mustDo(t, n.Forward(refs(t, 1, 1), advisor, day0(1)))
	mustDo(t, n.Comment("  Appelé le dirigeant  ", animateur, day0(2)))
	mustDo(t, n.Remind(ReminderPoke, animateur, day0(10)))
	mustDo(t, n.Remind(ReminderLastChance, animateur, day0(22)))
	if err := n.Remind("nag", animateur, day0(23)); !isField(err, "kind") {
		t.Fatalf("unknown kind: %v", err)
	}
	if err := n.Comment(" ", animateur, day0(23)); !isField(err, "text") {
		t.Fatalf("empty comment: %v", err)
	}
	cs := n.Comments()
	if len(cs) != 1 || cs[0].Text != "Appelé le dirigeant" || cs[0].By != animateur || !cs[0].At.Equal(day0(2)) {
		t.Fatalf("comments %+v", cs)
	}
	rs := n.Reminders()
	if len(rs) != 2 || rs[0].Kind != ReminderPoke || rs[1].Kind != ReminderLastChance || !rs[1].At.Equal(day0(22)) {
		t.Fatalf("reminders %+v", rs)
	}
	if !n.LastEventAt().Equal(day0(22)) {
		t.Fatalf("LastEventAt %v", n.LastEventAt())
	}
}

func TestAbandon(t *testing.T) {
	t.Parallel()
	t.Run("refused once a match is engaged", func(t *testing.T) {
		t.Parallel()
		for _, s := range []MatchStatus{MatchTakingCare, MatchDone, MatchDoneNoHelp, MatchDoneNotReachable} {
			n := mustMatchIn(t, s)
			if err := n.Abandon("trop tard", animateur, day0(50)); !errors.Is(err, ErrAbandonRefused) {
				t.Errorf("abandon with a match %s: %v", s, err)
			}
		}
	})
	t.Run("allowed while quo or declined, or after a reopening", func(t *testing.T) {
		t.Parallel()
		for _, s := range []MatchStatus{MatchQuo, MatchNotForMe} {
			n := mustMatchIn(t, s)
			mustDo(t, n.Abandon("personne", animateur, day0(50)))
		}
		n := mustMatchIn(t, MatchTakingCare)
		mustDo(t, n.Reopen(mustID(t, 1), "", animateur, day0(3)))
		mustDo(t, n.Abandon("relâché", animateur, day0(50)))
		mustDo(t, mustCaptured(t).Abandon("jamais transmis", animateur, day0(1)))
	})
	t.Run("abandoned need", func(t *testing.T) {
		t.Parallel()
		n := mustForwarded(t, 1)
		if err := n.Abandon("  ", animateur, day0(45)); !isField(err, "reason") {
			t.Fatalf("empty reason: %v", err)
		}
		mustDo(t, n.Abandon(" sans réponse ", system, day0(45)))
		if n.Status() != NeedAbandonedStatus {
			t.Fatalf("status %s", n.Status())
		}
		at, ok := n.AbandonedAt()
		ab, _ := n.Abandonment()
		if !ok || !at.Equal(day0(45)) || ab.Reason != "sans réponse" || ab.By != system {
			t.Fatalf("abandoned %v %v %+v", at, ok, ab)
		}
		if err := n.Abandon("again", animateur, day0(46)); !errors.Is(err, ErrAbandonRefused) {
			t.Fatalf("second abandon: %v", err)
		}
		for name, err := range map[string]error{
			"forward": n.Forward(refs(t, 2, 2), advisor, day0(46)),
			"take":    n.TakeCharge(mustID(t, 1), referent, day0(46)),
			"remind":  n.Remind(ReminderPoke, animateur, day0(46)),
		} {
			if !errors.Is(err, ErrNeedAbandoned) {
				t.Errorf("%s on an abandoned need: %v", name, err)
			}
		}
		mustDo(t, n.Comment("noted", animateur, day0(47)))
		mustDo(t, n.EraseContact(system, day0(48)))
		if n.Status() != NeedAbandonedStatus || n.Basket(day0(60), DefaultThresholds()) != BasketNone {
			t.Fatalf("status %s basket %s", n.Status(), n.Basket(day0(60), DefaultThresholds()))
		}
	})
}

func TestEraseContact(t *testing.T) {
	t.Parallel()
	n := mustCaptured(t)
	if n.ContactErased() {
		t.Fatal("erased at capture")
	}
	mustDo(t, n.EraseContact(system, day0(3*365)))
	ch := n.Changes()
	last, ok := ch[len(ch)-1].(ContactErased)
	if !ok || last.KeyID != "key-1" || last.NeedID != n.ID() || !last.At.Equal(day0(3*365)) {
		t.Fatalf("event %#v", ch[len(ch)-1])
	}
	if at, ok := n.ContactErasedAt(); !n.ContactErased() || !ok || !at.Equal(day0(3*365)) {
		t.Fatal("not erased")
	}
	if err := n.EraseContact(system, day0(3*365+1)); !errors.Is(err, ErrAlreadyErased) {
		t.Fatalf("second erase: %v", err)
	}
}

// TestFoldReplaysCommands: loading the recorded events gives the same state.
func TestFoldReplaysCommands(t *testing.T) {
	t.Parallel()
	n := mustForwarded(t, 2)
	mustDo(t, n.TakeCharge(mustID(t, 1), referent, day0(1)))
	mustDo(t, n.Decline(mustID(t, 2), "non", referent, day0(1)))
	mustDo(t, n.Comment("ok", advisor, day0(2)))
	mustDo(t, n.Close(mustID(t, 1), MatchDone, "", referent, day0(3)))
	mustDo(t, n.EraseContact(system, day0(4)))
	events := n.Changes()

	// Through the codec, as a store would.
	var decoded []Event
	for _, e := range events {
		typ, ver, data, err := Marshal(e)
		mustDo(t, err)
		d, err := Unmarshal(typ, ver, data)
		mustDo(t, err)
		decoded = append(decoded, d)
	}
	loaded, err := FoldNeed(n.ID(), decoded)
	mustDo(t, err)
	n.ClearChanges()
	if !reflect.DeepEqual(loaded, n) {
		t.Fatalf("fold differs from the commanded need:\n got %+v\nwant %+v", loaded, n)
	}
	if loaded.Version() != int64(len(events)) || loaded.LoadedVersion() != loaded.Version() {
		t.Fatalf("version %d loaded %d", loaded.Version(), loaded.LoadedVersion())
	}
}

func TestFoldNeedUntil(t *testing.T) {
	t.Parallel()
	n := mustForwarded(t, 2)
	r1, r2 := mustID(t, 1), mustID(t, 2)
	mustDo(t, n.TakeCharge(r1, referent, day0(2)))
	mustDo(t, n.Close(r1, MatchDone, "", referent, day0(10)))
	mustDo(t, n.Reopen(r1, "", animateur, day0(20)))
	mustDo(t, n.Decline(r2, "", referent, day0(21)))
	events := n.Changes()

	for _, tc := range []struct {
		at       time.Time
		status   NeedStatus
		version  int64
		r1       MatchStatus
		firstTCA bool
	}{
		{t0.Add(-time.Second), "", 0, "", false},
		{t0, NeedCapturedStatus, 1, "", false},
		{t0.Add(time.Hour), NeedQuo, 2, MatchQuo, false},
		{day0(2).Add(-time.Nanosecond), NeedQuo, 2, MatchQuo, false},
		{day0(2), NeedTakingCare, 3, MatchTakingCare, true},
		{day0(15), NeedDone, 4, MatchDone, true},
		{day0(20), NeedQuo, 5, MatchQuo, true},
		{day0(30), NeedQuo, 6, MatchQuo, true},
	} {
		got, err := FoldNeedUntil(n.ID(), events, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if tc.version == 0 {
			if got.Exists() || got.Version() != 0 {
				t.Fatalf("at %v: need exists", tc.at)
			}
			continue
		}
		m, _ := got.Match(r1)
		_, tca := got.FirstTakeChargeAt()
		if got.Status() != tc.status || got.Version() != tc.version || m.Status != tc.r1 || tca != tc.firstTCA {
			t.Errorf("at %v: status %s version %d r1 %s tca %v; want %s %d %s %v",
				tc.at, got.Status(), got.Version(), m.Status, tca, tc.status, tc.version, tc.r1, tc.firstTCA)
		}
	}
}

func TestApplyRefusesEventsThatDoNotFit(t *testing.T) {
	t.Parallel()
	id := mustID(t, 1000)
	other := mustID(t, 2000)
	captured := NeedCaptured{Meta: Meta{At: t0}, NeedID: id}
	fwd := NeedForwarded{Meta: Meta{At: t0}, NeedID: id, Referents: refs(t, 1, 1)}
	for _, tc := range []struct {
		name   string
		before []Event
		event  Event
	}{
		{"before capture", nil, CommentAdded{NeedID: id, Text: "x"}},
		{"other need's capture", nil, NeedCaptured{NeedID: other}},
		{"other need's event", []Event{captured}, CommentAdded{NeedID: other}},
		{"captured twice", []Event{captured}, captured},
		{"forward to nobody", []Event{captured}, NeedForwarded{NeedID: id}},
		{"forward twice to a referent", []Event{captured, fwd}, fwd},
		{"duplicate in one forward", []Event{captured}, NeedForwarded{NeedID: id, Referents: append(refs(t, 1, 1), refs(t, 1, 1)...)}},
		{"change of unknown match", []Event{captured}, MatchStatusChanged{NeedID: id, ReferentID: mustID(t, 1), From: MatchQuo, To: MatchTakingCare}},
		{"change from the wrong status", []Event{captured, fwd}, MatchStatusChanged{NeedID: id, ReferentID: mustID(t, 1), From: MatchTakingCare, To: MatchDone}},
		{"change off the table", []Event{captured, fwd}, MatchStatusChanged{NeedID: id, ReferentID: mustID(t, 1), From: MatchQuo, To: MatchDone}},
		{"abandoned twice", []Event{captured, NeedAbandoned{NeedID: id}}, NeedAbandoned{NeedID: id}},
		{"erased twice", []Event{captured, ContactErased{NeedID: id}}, ContactErased{NeedID: id}},
		{"reminder of other need", []Event{captured}, ReminderSent{NeedID: other}},
		{"forward of other need", []Event{captured}, NeedForwarded{NeedID: other}},
		{"abandon of other need", []Event{captured}, NeedAbandoned{NeedID: other}},
		{"erase of other need", []Event{captured}, ContactErased{NeedID: other}},
		{"change of other need", []Event{captured}, MatchStatusChanged{NeedID: other}},
		{"directory event", []Event{captured}, ReferentDeactivated{ReferentID: id}},
		{"nil", []Event{captured}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := FoldNeed(id, tc.before)
			if err != nil {
				t.Fatal(err)
			}
			before := *n
			err = n.Apply(tc.event)
			if !errors.Is(err, ErrEventMismatch) {
				t.Fatalf("Apply error %v, want ErrEventMismatch", err)
			}
			if n.Version() != before.Version() || n.Status() != before.Status() || len(n.Matches()) != len(before.Matches()) {
				t.Fatal("a refused event changed the need")
			}
			if _, err := FoldNeed(id, append(tc.before, tc.event)); !errors.Is(err, ErrEventMismatch) {
				t.Fatalf("FoldNeed error %v", err)
			}
			if _, err := FoldNeedUntil(id, append(tc.before, tc.event), t0.Add(time.Hour)); !errors.Is(err, ErrEventMismatch) {
				t.Fatalf("FoldNeedUntil error %v", err)
			}
		})
	}
}

func TestCommandInstantsAreUTC(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("Europe/Paris", 3600)
	n := NewNeed(mustID(t, 1000))
	local := time.Now().In(paris) // carries a monotonic reading
	mustDo(t, n.Capture(validCapture(t), nil, advisor, local))
	got := n.Changes()[0].OccurredAt()
	if got.Location() != time.UTC || !got.Equal(local) || got != got.Round(0) {
		t.Fatalf("instant %v (%v), want %v in UTC without monotonic reading", got, got.Location(), local)
	}
	typ, ver, data, err := Marshal(n.Changes()[0])
	mustDo(t, err)
	back, err := Unmarshal(typ, ver, data)
	mustDo(t, err)
	if !reflect.DeepEqual(back, n.Changes()[0]) {
		t.Fatalf("decoded %#v\nrecorded %#v", back, n.Changes()[0])
	}
}
