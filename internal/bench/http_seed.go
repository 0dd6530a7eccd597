package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/eventstore/postgres"
)

// httpDirectory is what the benchmark created through the API: one advisor
// and one referent (with its user) per client.
type httpDirectory struct {
	subject        string
	orgs           []uuid.UUID
	referents      []uuid.UUID
	referentOrg    []uuid.UUID
	referentTokens []string
	advisors       []uuid.UUID
	advisorTokens  []string
}

// seedDirectory creates the directory and users through the API, as an
// admin would; run makes names and addresses unique to the run.
func seedDirectory(ctx context.Context, admin apiClient, clients int, run string) (*httpDirectory, error) {
	d := &httpDirectory{subject: domain.Subjects()[0].Code}
	var created struct {
		ID    uuid.UUID `json:"id"`
		Token string    `json:"token"`
	}
	for i := range 4 {
		if err := admin.mustCall(ctx, http.StatusCreated, "POST", "/api/organisations",
			map[string]any{"name": fmt.Sprintf("Bench org %s %d", run, i), "kind": "cci"}, &created); err != nil {
			return nil, err
		}
		d.orgs = append(d.orgs, created.ID)
	}
	for i := range clients {
		org := d.orgs[i%len(d.orgs)]
		if err := admin.mustCall(ctx, http.StatusCreated, "POST", "/api/referents", map[string]any{
			"organisation_id": org, "name": fmt.Sprintf("Référent %d", i), "email": fmt.Sprintf("ref%d-%s@bench.test", i, run),
			"subjects": []string{d.subject}, "zones": []domain.Zone{{Level: domain.LevelRegion, Code: "32"}},
		}, &created); err != nil {
			return nil, err
		}
		ref := created.ID
		d.referents, d.referentOrg = append(d.referents, ref), append(d.referentOrg, org)
		if err := admin.mustCall(ctx, http.StatusCreated, "POST", "/api/users", map[string]any{
			"name": fmt.Sprintf("Référent %d", i), "email": fmt.Sprintf("ref%d-%s@bench.test", i, run), "role": "referent",
			"organisation_id": org, "referent_id": ref,
		}, &created); err != nil {
			return nil, err
		}
		d.referentTokens = append(d.referentTokens, created.Token)
		if err := admin.mustCall(ctx, http.StatusCreated, "POST", "/api/users", map[string]any{
			"name": fmt.Sprintf("Conseiller %d", i), "email": fmt.Sprintf("adv%d-%s@bench.test", i, run), "role": "advisor",
			"organisation_id": org,
		}, &created); err != nil {
			return nil, err
		}
		d.advisors, d.advisorTokens = append(d.advisors, created.ID), append(d.advisorTokens, created.Token)
	}
	return d, nil
}

// bulkAppender is the PostgreSQL store's seeding path.
type bulkAppender interface {
	BulkAppend(ctx context.Context, batches []postgres.Batch) (int64, error)
}

// seedNeeds writes n needs with realistic lives (captured over the last 18
// months in Hauts-de-France, forwarded, mostly taken in charge and closed),
// decided by the domain and written through the store's bulk path (COPY on
// PostgreSQL; plain appends elsewhere). Contacts are sealed with a dummy:
// these needs are for the read models, GET need reads the needs the
// command phase captured.
func seedNeeds(ctx context.Context, store eventstore.Store, d *httpDirectory, n int, progress io.Writer) (int64, error) {
	geo := domain.DefaultGeography()
	communes := geo.CommunesIn(domain.Zone{Level: domain.LevelRegion, Code: "32"})
	subjects := domain.Subjects()
	if len(communes) == 0 {
		return 0, fmt.Errorf("no commune in région 32")
	}
	const perBatch = 2000
	var events, done atomic.Int64
	stopProgress := Progress(progress, 5*time.Second, func() string {
		return fmt.Sprintf("seeding: %d / %d needs, %d events", done.Load(), n, events.Load())
	})
	defer stopProgress()
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	now := time.Now().UTC()
	for start := 0; start < n; start += perBatch {
		count := min(perBatch, n-start)
		seed := uint64(start)
		g.Go(func() error {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			batches := make([]postgres.Batch, 0, count)
			for range count {
				b, err := simulatedNeed(rng, geo, communes, subjects, d, now)
				if err != nil {
					return err
				}
				batches = append(batches, b)
			}
			k, err := writeBatches(ctx, store, batches)
			if err != nil {
				return err
			}
			events.Add(k)
			done.Add(int64(count))
			return nil
		})
	}
	err := g.Wait()
	return events.Load(), err
}

func writeBatches(ctx context.Context, store eventstore.Store, batches []postgres.Batch) (int64, error) {
	if b, ok := store.(bulkAppender); ok {
		return b.BulkAppend(ctx, batches)
	}
	var k int64
	for _, b := range batches {
		if _, err := store.Append(ctx, b.Stream, eventstore.NoStream, b.Events...); err != nil {
			return k, err
		}
		k += int64(len(b.Events))
	}
	return k, nil
}

// simulatedNeed decides one need's whole life with the domain.
func simulatedNeed(rng *rand.Rand, geo *domain.Geography, communes []domain.Commune, subjects []domain.Subject, d *httpDirectory, now time.Time) (postgres.Batch, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return postgres.Batch{}, err
	}
	i := rng.IntN(len(d.advisors))
	advisor := domain.Actor{ID: d.advisors[i], Role: domain.RoleAdvisor}
	at := now.Add(-time.Duration(rng.Int64N(int64(540 * 24 * time.Hour))))
	key := make([]byte, 32)
	for j := range key {
		key[j] = byte(rng.Uint32())
	}
	need := domain.NewNeed(id)
	err = need.Capture(domain.Capture{
		SIRET: benchSIRET(rng), CompanyName: fmt.Sprintf("Entreprise %d", rng.IntN(1_000_000)),
		Commune: communes[rng.IntN(len(communes))].Code, Subject: subjects[rng.IntN(len(subjects))].Code,
		Description: "besoin simulé", Contact: domain.SealedContact{KeyID: "bench-" + id.String(), Ciphertext: key},
		AdvisorID: advisor.ID,
	}, geo, advisor, at)
	if err != nil {
		return postgres.Batch{}, fmt.Errorf("capture: %w", err)
	}
	r := rng.IntN(len(d.referents))
	ref := d.referents[r]
	referent := domain.Actor{ID: ref, Role: domain.RoleReferent}
	at = at.Add(time.Duration(rng.IntN(48)+1) * time.Hour)
	if rng.IntN(100) < 95 && at.Before(now) {
		if err := need.Forward([]domain.MatchRef{{ReferentID: ref, OrganisationID: d.referentOrg[r]}}, advisor, at); err != nil {
			return postgres.Batch{}, fmt.Errorf("forward: %w", err)
		}
		at = at.Add(time.Duration(rng.IntN(200)+1) * time.Hour)
		switch p := rng.IntN(100); {
		case p < 75 && at.Before(now):
			if err := need.TakeCharge(ref, referent, at); err != nil {
				return postgres.Batch{}, fmt.Errorf("take charge: %w", err)
			}
			at = at.Add(time.Duration(rng.IntN(500)+1) * time.Hour)
			outcome := []domain.MatchStatus{domain.MatchDone, domain.MatchDone, domain.MatchDone, domain.MatchDoneNoHelp, domain.MatchDoneNotReachable}[rng.IntN(5)]
			if at.Before(now) && rng.IntN(100) < 85 {
				if err := need.Close(ref, outcome, "", referent, at); err != nil {
					return postgres.Batch{}, fmt.Errorf("close: %w", err)
				}
			}
		case p < 85 && at.Before(now):
			if err := need.Decline(ref, "hors périmètre", referent, at); err != nil {
				return postgres.Batch{}, fmt.Errorf("decline: %w", err)
			}
		}
	}
	changes := need.Changes()
	evs := make([]eventstore.NewEvent, 0, len(changes))
	for _, e := range changes {
		typ, ver, data, err := domain.Marshal(e)
		if err != nil {
			return postgres.Batch{}, err
		}
		eid, err := uuid.NewV7()
		if err != nil {
			return postgres.Batch{}, err
		}
		by := e.Actor()
		evs = append(evs, eventstore.NewEvent{ID: eid, Type: typ, SchemaVersion: ver, Data: data,
			Metadata: eventstore.Metadata{ActorID: by.ID.String(), ActorRole: string(by.Role)}})
	}
	return postgres.Batch{Stream: domain.NeedStream(id), Events: evs}, nil
}

// benchSIRET returns a random SIRET whose Luhn checksum holds.
func benchSIRET(rng *rand.Rand) string {
	digits := make([]byte, 14)
	for i := range 13 {
		digits[i] = byte('0' + rng.IntN(10))
	}
	if string(digits[:9]) == "356000000" {
		digits[0] = '4'
	}
	for c := byte('0'); c <= '9'; c++ {
		digits[13] = c
		if luhnOK(digits) {
			break
		}
	}
	return string(digits)
}

func luhnOK(digits []byte) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
