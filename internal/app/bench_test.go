package app_test

import (
	"testing"

	"github.com/reso-fr/reso/internal/app"
)

// Benchmarks of the service alone on SQLite (no HTTP): go test -run '^$'
// -bench . ./internal/app/

func BenchmarkGetNeed(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) { benchGetNeed(b, kind) })
	}
}

func benchGetNeed(b *testing.B, kind string) {
	f := mustFixture(b, kind)
	id := f.mustNeed(b, lille, f.refA, f.refB)
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.svc.GetNeed(ctx, f.referentA, id, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthenticateCached(b *testing.B) {
	f := mustFixture(b, "sqlite")
	_, tok, _, err := f.svc.RegisterUser(ctx, f.admin, app.UserInput{Name: "Bench", Email: "b@b.fr", Role: "funder"}, app.CommandMeta{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.svc.Authenticate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComment(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) { benchComment(b, kind) })
	}
}

func benchComment(b *testing.B, kind string) {
	f := mustFixture(b, kind)
	// Round robin over needs, so streams stay the length of real ones
	// (tens of events) instead of growing with b.N.
	ids := make([]uuidT, 100)
	for i := range ids {
		ids[i] = f.mustNeed(b, lille, f.refA)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := f.svc.Comment(ctx, f.advisor, ids[i%len(ids)], "suivi", app.CommandMeta{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
