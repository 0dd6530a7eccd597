package needfold

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

func TestNeedSettled(t *testing.T) {
	t.Parallel()
	m := func(st ...domain.MatchStatus) []Match {
		out := make([]Match, len(st))
		for i, s := range st {
			out[i] = Match{Status: s}
		}
		return out
	}
	tests := []struct {
		name    string
		s       State
		settled bool
	}{
		{"captured, not forwarded", State{}, false},
		{"waiting", State{Matches: m(domain.MatchQuo)}, false},
		{"taken in charge", State{Matches: m(domain.MatchTakingCare, domain.MatchDone)}, false},
		{"declined by all: reminders and abandonment follow", State{Matches: m(domain.MatchNotForMe, domain.MatchNotForMe)}, false},
		{"one declined, one closed", State{Matches: m(domain.MatchNotForMe, domain.MatchDoneNoHelp)}, true},
		{"closed", State{Matches: m(domain.MatchDoneNotReachable)}, true},
		{"abandoned", State{Abandoned: true, Matches: m(domain.MatchQuo)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.s.Settled(); got != tt.settled {
				t.Fatalf("settled() = %v, want %v", got, tt.settled)
			}
		})
	}
}

// mustDirty marks states dirty in cache as foldNeeds does, each with a
// before copy.
func mustDirty(t *testing.T, c *Cache, states ...*State) {
	t.Helper()
	for _, s := range states {
		if s.dirty {
			t.Fatalf("%s is dirty already", s.ID)
		}
		c.m[s.ID] = s
		c.before[s.ID] = s.clone()
		s.dirty = true
		c.dirty = append(c.dirty, s)
	}
}

func ids(states []*State) []uuid.UUID {
	out := make([]uuid.UUID, len(states))
	for i, s := range states {
		out[i] = s.ID
	}
	return out
}

// While settling, a flush writes the needs at rest and keeps the others
// dirty with their state at the last write; without, it writes them all.
func TestCacheTakeLeavesNeedsInProgress(t *testing.T) {
	t.Parallel()
	c := NewCache(true, true, nil)
	done := &State{ID: uuid.MustParse("00000000-0000-0000-0000-000000000003"), Matches: []Match{{Status: domain.MatchDone}}}
	open := &State{ID: uuid.MustParse("00000000-0000-0000-0000-000000000002"), Matches: []Match{{Status: domain.MatchQuo}}}
	gone := &State{ID: uuid.MustParse("00000000-0000-0000-0000-000000000001"), Abandoned: true}
	mustDirty(t, c, done, open, gone)

	c.settling = true
	if got, want := ids(c.Take()), []uuid.UUID{gone.ID, done.ID}; !slices.Equal(got, want) {
		t.Fatalf("take() = %v, want %v in id order", got, want)
	}
	c.Flushed()
	if got := ids(c.dirty); !slices.Equal(got, []uuid.UUID{open.ID}) || !open.dirty || done.dirty || gone.dirty {
		t.Fatalf("dirty after the flush = %v, want only %s", got, open.ID)
	}
	if c.before[open.ID] == nil || c.before[done.ID] != nil {
		t.Fatalf("before after the flush: %v", c.before)
	}
	if _, ok := c.written[idHash(open.ID)]; ok {
		t.Fatal("a need left out counts as written")
	}

	// A flush that writes nothing leaves the needs in progress dirty.
	if got := c.Take(); len(got) != 0 {
		t.Fatalf("take() = %v, want none", ids(got))
	}
	c.Flushed()
	if got := ids(c.dirty); !slices.Equal(got, []uuid.UUID{open.ID}) {
		t.Fatalf("dirty after an empty flush = %v", got)
	}

	// hold(false): the last flush writes them all.
	c.settling = false
	if got := ids(c.Take()); !slices.Equal(got, []uuid.UUID{open.ID}) {
		t.Fatalf("take() after settling = %v", got)
	}
	c.Flushed()
	if len(c.dirty) != 0 || open.dirty || len(c.before) != 0 {
		t.Fatalf("after the last flush: dirty %v, before %v", ids(c.dirty), c.before)
	}
	if _, ok := c.written[idHash(open.ID)]; !ok {
		t.Fatal("a written need is not recorded as written")
	}
}

// Past maxCached states a flush writes every need, so that the cache can be
// dropped.
func TestCacheTakeWritesAllWhenFull(t *testing.T) {
	t.Parallel()
	c := NewCache(true, false, nil)
	open := &State{ID: uuid.New(), Matches: []Match{{Status: domain.MatchTakingCare}}}
	mustDirty(t, c, open)
	c.settling = true
	for len(c.m) <= maxCached {
		c.m[uuid.New()] = &State{}
	}
	if got := ids(c.Take()); !slices.Equal(got, []uuid.UUID{open.ID}) {
		t.Fatalf("take() with a full cache = %v, want %s", got, open.ID)
	}
}
