package eventstoretest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/eventstore"
)

// benchData is a typical need event: a few hundred bytes of JSON.
var benchData = json.RawMessage(`{"need_id":"0190f5c2-7a4e-7c3b-9a11-5d2f8e0b6a01","siret":"73282932000074",` +
	`"subject":"recrutement","commune":"69123","description":"Recherche deux soudeurs qualifiés pour un ` +
	`contrat de six mois, démarrage au printemps.","advisor_id":"adv-1234"}`)

// BenchEvents makes n events for benchmarks, with fresh UUIDv7 ids.
func BenchEvents(b testing.TB, n int) []eventstore.NewEvent {
	b.Helper()
	out := make([]eventstore.NewEvent, n)
	for i := range out {
		id, err := uuid.NewV7()
		if err != nil {
			b.Fatal(err)
		}
		out[i] = eventstore.NewEvent{ID: id, Type: "need.captured", SchemaVersion: 1, Data: benchData,
			Metadata: eventstore.Metadata{ActorID: "adv-1234", ActorRole: "advisor", CorrelationID: id.String()}}
	}
	return out
}

// BenchmarkAppend measures appends of batch events each to distinct streams
// with NoStream, one writer, and reports events/s.
func BenchmarkAppend(b *testing.B, s eventstore.Store, batch int) {
	ctx := context.Background()
	events := BenchEvents(b, b.N*batch) // ids made outside the timed loop
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs := events[i*batch : (i+1)*batch]
		if _, err := s.Append(ctx, fmt.Sprintf("bench-%d", i), eventstore.NoStream, evs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReadAll seeds n events, then reads the whole log in pages of
// page events per iteration, and reports events/s.
func BenchmarkReadAll(b *testing.B, s eventstore.Store, n, page int) {
	ctx := context.Background()
	for i := 0; i < n; i += 500 {
		if _, err := s.Append(ctx, fmt.Sprintf("seed-%d", i/500), eventstore.NoStream, BenchEvents(b, min(500, n-i))...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		read, after := 0, eventstore.Start
		for {
			evs, err := s.ReadAll(ctx, after, page)
			if err != nil {
				b.Fatal(err)
			}
			read += len(evs)
			if len(evs) < page {
				break
			}
			after = evs[len(evs)-1].Position
		}
		if read != n {
			b.Fatalf("read %d events, want %d", read, n)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}
