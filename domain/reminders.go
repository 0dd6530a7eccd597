package domain

import "time"

// Thresholds are the reminder rules, in days since the need was first
// forwarded: Poke, LastChance and Abandon baskets, and Expire for a match
// still quo that many days after it was sent.
type Thresholds struct {
	Poke, LastChance, Abandon, Expire int
}

// DefaultThresholds are the field's: poke at day 9, last chance at day 21,
// abandon at day 45, matches expired after 45 days.
func DefaultThresholds() Thresholds {
	return Thresholds{Poke: 9, LastChance: 21, Abandon: 45, Expire: 45}
}

// Validate returns a *ValidationError (field "thresholds") unless 0 < Poke <
// LastChance < Abandon and Expire > 0.
func (th Thresholds) Validate() error {
	if th.Poke <= 0 || th.Poke >= th.LastChance || th.LastChance >= th.Abandon || th.Expire <= 0 {
		return invalid("thresholds", "need 0 < poke (%d) < last_chance (%d) < abandon (%d) and expire (%d) > 0",
			th.Poke, th.LastChance, th.Abandon, th.Expire)
	}
	return nil
}

// Basket is the reminder basket a need falls in.
type Basket string

// Baskets, from the least to the most urgent.
const (
	BasketNone       Basket = "none"
	BasketPoke       Basket = "poke"
	BasketLastChance Basket = "last_chance"
	BasketAbandon    Basket = "abandon"
)

// Label is the French label of the basket.
func (b Basket) Label() string {
	switch b {
	case BasketPoke:
		return "À relancer"
	case BasketLastChance:
		return "Dernière chance"
	case BasketAbandon:
		return "À abandonner"
	}
	return "Aucune relance"
}

const day = 24 * time.Hour

// DaysSince counts whole days (periods of 24 hours) from since to at: 0
// during the first 24 hours, and never negative. Days are elapsed time, not
// calendar days, so that the domain needs no time zone.
func DaysSince(since, at time.Time) int {
	d := at.Sub(since)
	if d < 0 {
		return 0
	}
	return int(d / day)
}

// BasketFor is the basket of a need first forwarded at forwardedAt, as of
// instant at. active says the need still waits: it was forwarded, no match is
// taking care or closed, and it is not abandoned; an inactive need is in no
// basket. Day 9 (th.Poke) is the first day of poke: 8 days and 23 hours after
// the forward, a need is in none.
func BasketFor(forwardedAt time.Time, active bool, at time.Time, th Thresholds) Basket {
	if !active || forwardedAt.IsZero() {
		return BasketNone
	}
	switch d := DaysSince(forwardedAt, at); {
	case d >= th.Abandon:
		return BasketAbandon
	case d >= th.LastChance:
		return BasketLastChance
	case d >= th.Poke:
		return BasketPoke
	}
	return BasketNone
}

// MatchExpired reports whether a match is still quo th.Expire days or more
// after it was sent.
func MatchExpired(status MatchStatus, sentAt, at time.Time, th Thresholds) bool {
	return status == MatchQuo && DaysSince(sentAt, at) >= th.Expire
}

// Waiting reports whether the need waits for a referent: forwarded, not
// abandoned, and no match taking care or closed. Only a waiting need is in a
// reminder basket.
func (n *Need) Waiting() bool {
	return n.captured && !n.forwardedAt.IsZero() && !n.abandoned && !n.engaged()
}

// Basket is the need's reminder basket as of instant at (see BasketFor).
// The need's state is the current one: to ask about the past, fold it with
// FoldNeedUntil first.
func (n *Need) Basket(at time.Time, th Thresholds) Basket {
	return BasketFor(n.forwardedAt, n.Waiting(), at, th)
}

// ExpiredMatches returns the matches still quo th.Expire days after they
// were sent, as of at, in the order of Matches.
func (n *Need) ExpiredMatches(at time.Time, th Thresholds) []Match {
	var out []Match
	for _, id := range n.order {
		m := n.matches[id]
		if MatchExpired(m.Status, m.SentAt, at, th) {
			out = append(out, m.clone())
		}
	}
	return out
}
