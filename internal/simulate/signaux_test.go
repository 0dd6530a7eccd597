package simulate_test

import (
	"context"
	"slices"
	"testing"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/memory"
	"github.com/reso-fr/reso/internal/simulate"
)

// With SignauxFaibles, an admin imports a list at the start of every month
// (the third one corrected four days later), every list folds under the
// domain's rules, and some needs are of companies on a list, some captured
// while their company was alerted; the same seed gives the same log.
func TestSignauxFaiblesLists(t *testing.T) {
	t.Parallel()
	o := simulate.Options{Seed: 3, Months: 4, NeedsPerMonth: 150, Writers: 3, SignauxFaibles: true}
	a, res := mustLog(t, o)
	o.Writers = 1
	if b, _ := mustLog(t, o); !slices.Equal(a, b) {
		t.Fatal("same seed, different logs")
	}
	st := memory.New()
	defer st.Close()
	if _, err := simulate.Run(context.Background(), st, o); err != nil {
		t.Fatal(err)
	}
	evs, err := st.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := domain.NewSFHistory()
	alertedAtCapture, onSomeList := 0, 0
	var captures []domain.NeedCaptured
	for _, ev := range evs {
		e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Apply(e); err != nil {
			t.Fatal(err)
		}
		if c, ok := e.(domain.NeedCaptured); ok {
			captures = append(captures, c)
			if r := h.Applying(c.At); r != nil {
				if _, ok := r.Flag(c.SIRET[:9]); ok {
					alertedAtCapture++
				}
			}
		}
	}
	revs := h.Revisions()
	if len(revs) != 5 {
		t.Fatalf("%d imports, want 4 lists and a correction", len(revs))
	}
	if revs[3].Period != revs[2].Period || revs[3].Label != "Mars 2025 (corrigée)" || revs[3].Lines != revs[2].Lines-1 {
		t.Fatalf("correction %+v of %+v", revs[3].SFImport, revs[2].SFImport)
	}
	for _, c := range captures {
		for _, r := range revs {
			if _, ok := r.Line(c.SIRET[:9]); ok {
				onSomeList++
				break
			}
		}
	}
	if len(captures) != res.Needs || onSomeList < res.Needs/50 || alertedAtCapture == 0 || alertedAtCapture >= onSomeList {
		t.Fatalf("%d needs: %d of listed companies, %d alerted at capture", res.Needs, onSomeList, alertedAtCapture)
	}
}
