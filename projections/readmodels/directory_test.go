package readmodels_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

// The directory read model folds a referent's details and reactivation,
// and lists the ids of every organisation and referent; a rebuild gives the
// same rows.
func TestDirectoryDetailsAndIDs(t *testing.T) {
	t.Parallel()
	for _, name := range pt.Backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := pt.MustBackend(t, name)
			e := pt.MustEngine(t, b, readmodels.Options{})
			pt.MustRun(t, e)
			ctx := context.Background()
			by := domain.Actor{ID: uuid.New(), Role: domain.RoleAdmin}
			at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			org, ant, ref := uuid.New(), uuid.New(), uuid.New()
			nord := domain.Zone{Level: domain.LevelDepartement, Code: "59"}
			oc, _ := domain.NewOrganisation(org, "CCI Grand Lille", domain.KindCCI, by, at)
			ac, _ := domain.NewAntenne(org, ant, "Antenne de Roubaix", nord, nil, by, at)
			rr, _ := domain.RegisterReferent(domain.ReferentRegistration{ReferentID: ref, OrganisationID: org, Name: "Claire",
				Email: "claire@cci.test", Subjects: []string{"export"}, Zones: []domain.Zone{nord}}, nil, by, at)
			dc, _ := domain.ChangeReferentDetails(ref, domain.ReferentDetails{Name: "Claire Martin", Phone: "0320000001", AntenneID: ant}, by, at)
			de, _ := domain.DeactivateReferent(ref, by, at)
			re, _ := domain.ReactivateReferent(ref, by, at)
			var last eventstore.Position
			for _, evs := range [][]domain.Event{{oc, ac}, {rr, dc, de, re}} {
				stream, _ := domain.StreamOf(evs[0])
				news := make([]eventstore.NewEvent, len(evs))
				for i, ev := range evs {
					typ, ver, data, err := domain.Marshal(ev)
					if err != nil {
						t.Fatal(err)
					}
					news[i] = eventstore.NewEvent{ID: uuid.New(), Type: typ, SchemaVersion: ver, Data: data}
				}
				res, err := b.Store.Append(ctx, stream, eventstore.NoStream, news...)
				if err != nil {
					t.Fatal(err)
				}
				last = res.Position
			}
			pt.MustWait(t, e, last)
			r, err := e.Referent(ctx, ref)
			if err != nil || r.Name != "Claire Martin" || r.AntenneID != ant || !r.Active {
				t.Fatalf("referent %+v, %v", r, err)
			}
			orgs, refs, err := e.DirectoryIDs(ctx)
			if err != nil || !slices.Equal(orgs, []uuid.UUID{org}) || !slices.Equal(refs, []uuid.UUID{ref}) {
				t.Fatalf("ids %v %v, %v", orgs, refs, err)
			}
			pt.MustMatchRebuild(t, e, b.DB)
		})
	}
}
