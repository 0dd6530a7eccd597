package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/reso-fr/reso/eventstore"
)

// BenchmarkAppend appends one-event batches from parallel writers, each to
// its own streams with the exact expected version (fsync as the server is
// configured). `reso-bench append` is the end-to-end measure.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, _ := mustStore(b)
			var writers atomic.Int64
			b.SetParallelism(4) // 4 × GOMAXPROCS writers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := writers.Add(1)
				stream, version := 0, int64(0)
				for pb.Next() {
					events := make([]eventstore.NewEvent, batch)
					for i := range events {
						events[i] = mustEvent(b, "bench", i)
					}
					res, err := s.Append(context.Background(), fmt.Sprintf("w%d-%d", w, stream), eventstore.ExpectedVersion(version), events...)
					if err != nil {
						b.Error(err)
						return
					}
					version = res.LastVersion
					if version >= 100 {
						stream, version = stream+1, 0
					}
				}
			})
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkReadAll reads a seeded log of 100,000 events in pages of 10,000.
func BenchmarkReadAll(b *testing.B) {
	s, _ := mustStore(b)
	const total, page = 100000, 10000
	var batches []Batch
	for i := range total / 10 {
		bt := Batch{Stream: fmt.Sprintf("s-%d", i)}
		for j := range 10 {
			bt.Events = append(bt.Events, mustEvent(b, "bench", j))
		}
		batches = append(batches, bt)
	}
	if _, err := s.BulkAppend(context.Background(), batches); err != nil {
		b.Fatal(err)
	}
	if err := s.Analyze(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		n := 0
		pos := eventstore.Start
		for {
			events, err := s.ReadAll(context.Background(), pos, page)
			if err != nil {
				b.Fatal(err)
			}
			n += len(events)
			if len(events) < page {
				break
			}
			pos = events[len(events)-1].Position
		}
		if n != total {
			b.Fatalf("read %d events, want %d", n, total)
		}
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "events/s")
}
