package projections

import (
	"testing"

	"github.com/google/uuid"
)

// split sends a key to COPY the first time it sees it in a table and to
// the upsert afterwards, whatever the type of the key's values, and tells
// apart composite keys whose concatenations are equal.
func TestBulkSetSplit(t *testing.T) {
	t.Parallel()
	id1, id2 := [16]byte(uuid.New()), [16]byte(uuid.New())
	b := newBulkSet()
	steps := []struct {
		table      string
		rows       [][]any
		fresh, old int
	}{
		{"needs", [][]any{{id1, "x"}, {id2, "y"}}, 2, 0},
		{"needs", [][]any{{id1, "z"}, {[16]byte(uuid.New()), "w"}}, 1, 1},
		{"stats", [][]any{{id1, "x"}}, 1, 0}, // another table: its own keys
		{"pairs", [][]any{{"ab", "c", 1}}, 1, 0},
		{"pairs", [][]any{{"a", "bc", 1}, {"ab", "c", 2}}, 1, 1},
		{"ints", [][]any{{int64(7)}, {7}, {int64(8)}}, 2, 1}, // int and int64 7 are one key
	}
	for i, s := range steps {
		keys := []int{0}
		if s.table == "pairs" {
			keys = []int{0, 1}
		}
		fresh, old := b.split(s.table, keys, s.rows)
		if len(fresh) != s.fresh || len(old) != s.old {
			t.Fatalf("step %d (%s): %d fresh, %d seen; want %d, %d", i, s.table, len(fresh), len(old), s.fresh, s.old)
		}
	}
}
