package memory_test

import (
	"fmt"
	"testing"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/eventstoretest"
	"github.com/reso-fr/reso/eventstore/memory"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	eventstoretest.Run(t, func(t *testing.T) (eventstore.Store, func() (eventstore.Store, error)) {
		return memory.New(), nil
	})
}

func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := memory.New()
			defer s.Close()
			eventstoretest.BenchmarkAppend(b, s, batch)
		})
	}
}

func BenchmarkReadAll(b *testing.B) {
	s := memory.New()
	defer s.Close()
	eventstoretest.BenchmarkReadAll(b, s, 100_000, 1000)
}
