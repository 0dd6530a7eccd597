package sqlite_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/eventstoretest"
	"github.com/reso-fr/reso/eventstore/sqlite"
)

// mustOpen opens a store on a fresh file in the test's temporary directory.
func mustOpen(t testing.TB) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "reso.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return s, path
}

func TestConformance(t *testing.T) {
	t.Parallel()
	eventstoretest.Run(t, func(t *testing.T) (eventstore.Store, func() (eventstore.Store, error)) {
		s, path := mustOpen(t)
		reopen := func() (eventstore.Store, error) { return sqlite.Open(t.Context(), path) }
		return s, reopen
	})
}

func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, _ := mustOpen(b)
			defer s.Close()
			eventstoretest.BenchmarkAppend(b, s, batch)
		})
	}
}

func BenchmarkReadAll(b *testing.B) {
	s, _ := mustOpen(b)
	defer s.Close()
	eventstoretest.BenchmarkReadAll(b, s, 100_000, 1000)
}

// BenchmarkAppendParallel has 8 writers append one event each to their own
// streams: concurrent appends share commits.
func BenchmarkAppendParallel(b *testing.B) {
	s, _ := mustOpen(b)
	defer s.Close()
	b.SetParallelism(4) // 4 x GOMAXPROCS(2) = 8 writers
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		w := n.Add(1)
		i := 0
		for pb.Next() {
			i++
			if _, err := s.Append(b.Context(), fmt.Sprintf("w%d-%d", w, i), eventstore.NoStream, eventstoretest.BenchEvents(b, 1)...); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
