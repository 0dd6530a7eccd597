package domain

import (
	"errors"
	"testing"
	"time"
)

func TestBasketBoundaries(t *testing.T) {
	t.Parallel()
	th := DefaultThresholds()
	if th != (Thresholds{Poke: 9, LastChance: 21, Abandon: 45, Expire: 45}) {
		t.Fatalf("defaults %+v", th)
	}
	fwd := t0.Add(time.Hour) // mustForwarded's forward time
	for _, tc := range []struct {
		name string
		at   time.Time
		want Basket
	}{
		{"at forward", fwd, BasketNone},
		{"before forward", fwd.Add(-time.Hour), BasketNone},
		{"day 8", fwd.Add(8 * day), BasketNone},
		{"a nanosecond before day 9", fwd.Add(9*day - 1), BasketNone},
		{"day 9", fwd.Add(9 * day), BasketPoke},
		{"day 20", fwd.Add(20*day + 23*time.Hour), BasketPoke},
		{"day 21", fwd.Add(21 * day), BasketLastChance},
		{"day 44", fwd.Add(45*day - time.Second), BasketLastChance},
		{"day 45", fwd.Add(45 * day), BasketAbandon},
		{"day 400", fwd.Add(400 * day), BasketAbandon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := mustForwarded(t, 2)
			if got := n.Basket(tc.at, th); got != tc.want {
				t.Fatalf("Basket = %s, want %s", got, tc.want)
			}
			if got := BasketFor(fwd, true, tc.at, th); got != tc.want {
				t.Fatalf("BasketFor = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBasketOnlyWhileWaiting(t *testing.T) {
	t.Parallel()
	th := DefaultThresholds()
	late := day0(30)
	for _, tc := range []struct {
		name  string
		setup func(*Need)
		want  Basket
	}{
		{"waiting", func(*Need) {}, BasketLastChance},
		{"one declined, one waiting", func(n *Need) { mustDo(t, n.Decline(mustID(t, 1), "", referent, day0(1))) }, BasketLastChance},
		{"all declined", func(n *Need) {
			mustDo(t, n.Decline(mustID(t, 1), "", referent, day0(1)))
			mustDo(t, n.Decline(mustID(t, 2), "", referent, day0(1)))
		}, BasketLastChance},
		{"taken care", func(n *Need) { mustDo(t, n.TakeCharge(mustID(t, 2), referent, day0(1))) }, BasketNone},
		{"closed", func(n *Need) {
			mustDo(t, n.TakeCharge(mustID(t, 2), referent, day0(1)))
			mustDo(t, n.Close(mustID(t, 2), MatchDoneNotReachable, "", referent, day0(2)))
		}, BasketNone},
		{"taken then reopened", func(n *Need) {
			mustDo(t, n.TakeCharge(mustID(t, 2), referent, day0(1)))
			mustDo(t, n.Reopen(mustID(t, 2), "", referent, day0(2)))
		}, BasketLastChance},
		{"abandoned", func(n *Need) { mustDo(t, n.Abandon("x", animateur, day0(3))) }, BasketNone},
	} {
		n := mustForwarded(t, 2)
		tc.setup(n)
		if got := n.Basket(late, th); got != tc.want {
			t.Errorf("%s: Basket = %s, want %s", tc.name, got, tc.want)
		}
		if n.Waiting() != (tc.want != BasketNone) {
			t.Errorf("%s: Waiting = %v", tc.name, n.Waiting())
		}
	}
	if got := mustCaptured(t).Basket(late, th); got != BasketNone {
		t.Fatalf("never forwarded: %s", got)
	}
	if got := BasketFor(t0, false, late, th); got != BasketNone {
		t.Fatalf("inactive: %s", got)
	}
	if got := BasketFor(time.Time{}, true, late, th); got != BasketNone {
		t.Fatalf("zero forward time: %s", got)
	}
}

func TestBasketCustomThresholds(t *testing.T) {
	t.Parallel()
	th := Thresholds{Poke: 1, LastChance: 2, Abandon: 3, Expire: 4}
	mustDo(t, th.Validate())
	want := []Basket{BasketNone, BasketPoke, BasketLastChance, BasketAbandon, BasketAbandon}
	for d, w := range want {
		if got := BasketFor(t0, true, day0(d), th); got != w {
			t.Errorf("day %d: %s, want %s", d, got, w)
		}
	}
}

func TestThresholdsValidate(t *testing.T) {
	t.Parallel()
	mustDo(t, DefaultThresholds().Validate())
	for _, th := range []Thresholds{
		{0, 21, 45, 45}, {9, 9, 45, 45}, {9, 21, 21, 45}, {9, 21, 45, 0}, {-1, 2, 3, 4},
	} {
		if err := th.Validate(); !errors.Is(err, ErrValidation) {
			t.Errorf("%+v: %v", th, err)
		}
	}
}

func TestMatchExpired(t *testing.T) {
	t.Parallel()
	th := DefaultThresholds()
	for _, tc := range []struct {
		status MatchStatus
		at     time.Time
		want   bool
	}{
		{MatchQuo, day0(44), false},
		{MatchQuo, day0(45).Add(-time.Nanosecond), false},
		{MatchQuo, day0(45), true},
		{MatchQuo, day0(100), true},
		{MatchTakingCare, day0(100), false},
		{MatchNotForMe, day0(100), false},
		{MatchDone, day0(100), false},
	} {
		if got := MatchExpired(tc.status, t0, tc.at, th); got != tc.want {
			t.Errorf("MatchExpired(%s, day %v) = %v", tc.status, tc.at.Sub(t0), got)
		}
	}
	n := mustForwarded(t, 3) // sent at t0+1h
	mustDo(t, n.TakeCharge(mustID(t, 2), referent, day0(1)))
	exp := n.ExpiredMatches(t0.Add(time.Hour+45*day), th)
	if len(exp) != 2 || exp[0].ReferentID != mustID(t, 1) || exp[1].ReferentID != mustID(t, 3) {
		t.Fatalf("expired %+v", exp)
	}
	if exp := n.ExpiredMatches(t0.Add(45*day), th); len(exp) != 0 {
		t.Fatalf("expired an hour early: %+v", exp)
	}
}

func TestDaysSince(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{-time.Hour, 0}, {0, 0}, {day - 1, 0}, {day, 1}, {9*day + time.Hour, 9}} {
		if got := DaysSince(t0, t0.Add(tc.d)); got != tc.want {
			t.Errorf("DaysSince(+%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestBasketLabels(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, b := range []Basket{BasketNone, BasketPoke, BasketLastChance, BasketAbandon} {
		if seen[b.Label()] {
			t.Errorf("label %q twice", b.Label())
		}
		seen[b.Label()] = true
	}
}
