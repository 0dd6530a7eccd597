package simulate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
)

// Contact is a company contact's personal data before sealing.
type Contact struct {
	Name, Email, Phone string
}

// Sealer encrypts a contact under a key of its own (the application's
// keyring). It returns the error of the keyring.
type Sealer interface {
	Seal(ctx context.Context, needID uuid.UUID, siret string, c Contact) (domain.SealedContact, error)
}

// dummySealer holds no plaintext: the "ciphertext" is a hash, so simulated
// logs carry no personal data at all.
type dummySealer struct{}

func (dummySealer) Seal(_ context.Context, needID uuid.UUID, siret string, c Contact) (domain.SealedContact, error) {
	sum := sha256.Sum256([]byte(needID.String() + "|" + siret + "|" + c.Email))
	return domain.SealedContact{KeyID: "sim-" + needID.String(), Ciphertext: sum[:]}, nil
}

// Options shape a simulated workload.
type Options struct {
	Seed int64
	// Start is the beginning of the first month (default 2025-01-01 UTC).
	Start time.Time
	// Months of needs (default 18).
	Months int
	// NeedsPerMonth (default 300), or TotalNeeds spread over Months when > 0.
	NeedsPerMonth int
	TotalNeeds    int
	// Writers append needs concurrently (default 4).
	Writers int
	// Now: nothing after it happens, so recent needs are still open
	// (default Start + Months).
	Now time.Time
	// Sealer seals contacts (nil: a dummy holding no plaintext).
	Sealer Sealer
	// Geography (nil: domain.DefaultGeography()).
	Geography *domain.Geography
	// Progress, when set, is called after each need with the needs and
	// events written so far (from several goroutines).
	Progress func(needs, events int64)
}

// Result says what the simulation wrote.
type Result struct {
	Directory
	Needs  int
	Events int64
	// Last is the highest position appended.
	Last eventstore.Position
}

func (o *Options) defaults() {
	if o.Start.IsZero() {
		o.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Months <= 0 {
		o.Months = 18
	}
	if o.NeedsPerMonth <= 0 {
		o.NeedsPerMonth = 300
	}
	if o.Writers <= 0 {
		o.Writers = 4
	}
	if o.Now.IsZero() {
		o.Now = o.Start.AddDate(0, o.Months, 0)
	}
	if o.Sealer == nil {
		o.Sealer = dummySealer{}
	}
	if o.Geography == nil {
		o.Geography = domain.DefaultGeography()
	}
}

// Run writes a simulated directory and o's needs into store. The same
// options give the same events with the same ids. It returns the first
// error of the domain, the sealer or the store.
func Run(ctx context.Context, store eventstore.Store, o Options) (Result, error) {
	o.defaults()
	var res Result
	dir, covs, dirEvents, err := buildDirectory(newRNG(o.Seed, 1), o.Geography, o.Start.AddDate(0, 0, -30))
	if err != nil {
		return res, err
	}
	res.Directory = dir
	var last positionMax
	meta := newRNG(o.Seed, 2)
	for _, se := range dirEvents {
		p, err := appendEvents(ctx, store, meta, se.stream, eventstore.NoStream, se.events, uuid.Nil)
		if err != nil {
			return res, err
		}
		last.observe(p)
		res.Events += int64(len(se.events))
	}

	total := o.TotalNeeds
	if total <= 0 {
		total = o.NeedsPerMonth * o.Months
	}
	w := &world{o: &o, covs: covs, communes: newCommunePicker(o.Geography, region), subjects: domain.Subjects(),
		advisors: dir.Users[domain.RoleAdvisor], animateurs: dir.Users[domain.RoleAnimateur], referentUser: map[uuid.UUID]uuid.UUID{}}
	for _, r := range dir.Referents {
		w.referentUser[r.ID] = r.UserID
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		events   atomic.Int64
		needs    atomic.Int64
	)
	events.Store(res.Events)
	for range o.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				n, p, err := w.need(ctx, store, i, total)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				last.observe(p)
				ev, nd := events.Add(int64(n)), needs.Add(1)
				if o.Progress != nil {
					o.Progress(nd, ev)
				}
			}
		}()
	}
feed:
	for i := 0; i < total; i++ {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.Needs, res.Events, res.Last = total, events.Load(), last.get()
	return res, nil
}

type positionMax struct {
	mu  sync.Mutex
	pos eventstore.Position
}

func (m *positionMax) observe(p eventstore.Position) {
	m.mu.Lock()
	if m.pos.Less(p) {
		m.pos = p
	}
	m.mu.Unlock()
}

func (m *positionMax) get() eventstore.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos
}

// appendEvents marshals events and appends them with expected. Event ids
// come from r so that a seed fixes them. A concurrency error is retried
// when the stream turns out to hold these very events already (an append
// whose answer was lost), and returned otherwise.
func appendEvents(ctx context.Context, store eventstore.Store, r rng, stream string, expected eventstore.ExpectedVersion, evs []domain.Event, correlation uuid.UUID) (eventstore.Position, error) {
	news := make([]eventstore.NewEvent, len(evs))
	for i, e := range evs {
		typ, v, data, err := domain.Marshal(e)
		if err != nil {
			return eventstore.Position{}, err
		}
		news[i] = eventstore.NewEvent{ID: r.id(), Type: typ, SchemaVersion: v, Data: data,
			Metadata: eventstore.Metadata{ActorID: idString(e.Actor().ID), ActorRole: string(e.Actor().Role), CorrelationID: idString(correlation)}}
	}
	for attempt := 0; ; attempt++ {
		res, err := store.Append(ctx, stream, expected, news...)
		if err == nil {
			return res.Position, nil
		}
		var ce *eventstore.ConcurrencyError
		if !errors.As(err, &ce) || attempt >= 3 {
			return eventstore.Position{}, fmt.Errorf("append to %s: %w", stream, err)
		}
		got, rerr := store.ReadStream(ctx, stream, int64(expected)+1, 1)
		if rerr != nil || len(got) == 0 || got[0].ID != news[0].ID {
			return eventstore.Position{}, fmt.Errorf("append to %s: %w", stream, err)
		}
		// Our events are there: the append succeeded before; asking again
		// is idempotent and returns the original result.
	}
}

func idString(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

// world is what every need's simulation reads.
type world struct {
	o            *Options
	covs         []domain.Coverage
	communes     *communePicker
	subjects     []domain.Subject
	advisors     []uuid.UUID
	animateurs   []uuid.UUID
	referentUser map[uuid.UUID]uuid.UUID
}

type action struct {
	at time.Time
	do func(n *domain.Need, at time.Time) error
}

const day = 24 * time.Hour

// need decides need number i's whole life and appends it in two appends
// (capture and forward, then the rest with its expected version). It
// returns how many events it wrote and the last position.
func (w *world) need(ctx context.Context, store eventstore.Store, i, total int) (int, eventstore.Position, error) {
	r := newRNG(w.o.Seed, 1000+uint64(i))
	month := i * w.o.Months / total
	from := w.o.Start.AddDate(0, month, 0)
	span := w.o.Start.AddDate(0, month+1, 0).Sub(from)
	capturedAt := from.Add(time.Duration(r.Int64N(int64(span/day))) * day).Add(8*time.Hour + time.Duration(r.Int64N(int64(10*time.Hour))))
	if capturedAt.After(w.o.Now) {
		return 0, eventstore.Position{}, nil
	}
	id := r.id()
	siret := r.siret()
	advisor := domain.Actor{ID: w.advisors[r.IntN(len(w.advisors))], Role: domain.RoleAdvisor}
	commune := w.communes.pick(r)
	subject := w.subjects[r.IntN(len(w.subjects))].Code
	sealed, err := w.o.Sealer.Seal(ctx, id, siret, Contact{Name: "Contact " + itoa(i), Email: "contact" + itoa(i) + "@entreprise.example", Phone: "0300000000"})
	if err != nil {
		return 0, eventstore.Position{}, fmt.Errorf("seal contact of need %s: %w", id, err)
	}
	n := domain.NewNeed(id)
	if err := n.Capture(domain.Capture{SIRET: siret, CompanyName: "Entreprise " + itoa(i), Commune: commune, Subject: subject,
		Description: "Besoin simulé numéro " + itoa(i), Contact: sealed, AdvisorID: advisor.ID}, w.o.Geography, advisor, capturedAt); err != nil {
		return 0, eventstore.Position{}, fmt.Errorf("simulate need %d: %w", i, err)
	}
	suggested := domain.Route(w.o.Geography, w.covs, commune, subject)
	forwardAt := capturedAt.Add(min(r.hours(3, 1), 5*day))
	var acts []action
	if len(suggested) > 0 && !forwardAt.After(w.o.Now) {
		k := min(len(suggested), 1+r.IntN(3))
		refs := make([]domain.MatchRef, k)
		for j := range refs {
			refs[j] = domain.MatchRef{ReferentID: suggested[j].ReferentID, OrganisationID: suggested[j].OrganisationID}
		}
		if err := n.Forward(refs, advisor, forwardAt); err != nil {
			return 0, eventstore.Position{}, fmt.Errorf("simulate need %d: %w", i, err)
		}
		for _, ref := range refs {
			acts = append(acts, w.matchLife(r, ref.ReferentID, forwardAt)...)
		}
		anim := domain.Actor{ID: w.animateurs[r.IntN(len(w.animateurs))], Role: domain.RoleAnimateur}
		for _, rem := range []struct {
			days int
			kind domain.ReminderKind
		}{{9, domain.ReminderPoke}, {21, domain.ReminderLastChance}} {
			acts = append(acts, action{forwardAt.Add(time.Duration(rem.days) * day), func(n *domain.Need, at time.Time) error {
				if !n.Waiting() {
					return nil
				}
				return n.Remind(rem.kind, anim, at)
			}})
		}
		acts = append(acts, action{forwardAt.Add(45 * day), func(n *domain.Need, at time.Time) error {
			if !n.Waiting() {
				return nil
			}
			return n.Abandon("Aucune prise en charge en 45 jours", domain.Actor{Role: domain.RoleSystem}, at)
		}})
	}
	if r.Float64() < 0.1 {
		acts = append(acts, action{capturedAt.Add(r.hours(48, 1)), func(n *domain.Need, at time.Time) error {
			return n.Comment("Entreprise recontactée, besoin confirmé.", advisor, at)
		}})
	}
	slices.SortStableFunc(acts, func(a, b action) int { return a.at.Compare(b.at) })
	head := len(n.Changes())
	for _, a := range acts {
		if a.at.After(w.o.Now) {
			break
		}
		// A step the rules refuse (a referent answering an abandoned need)
		// simply does not happen.
		if err := a.do(n, a.at); err != nil && !isRuleRefusal(err) {
			return 0, eventstore.Position{}, fmt.Errorf("simulate need %d: %w", i, err)
		}
	}
	changes := n.Changes()
	stream := domain.NeedStream(id)
	pos, err := appendEvents(ctx, store, r, stream, eventstore.NoStream, changes[:head], id)
	if err != nil {
		return 0, pos, err
	}
	if len(changes) > head {
		if pos, err = appendEvents(ctx, store, r, stream, eventstore.Exactly(int64(head)), changes[head:], id); err != nil {
			return 0, pos, err
		}
	}
	return len(changes), pos, nil
}

func isRuleRefusal(err error) bool {
	return errors.Is(err, domain.ErrNeedAbandoned) || errors.Is(err, domain.ErrInvalidTransition) ||
		errors.Is(err, domain.ErrAbandonRefused)
}

// matchLife plans one referent's answers: most take charge within days and
// close, some decline, some never answer; a few closed ones are reopened.
func (w *world) matchLife(r rng, referent uuid.UUID, sent time.Time) []action {
	by := domain.Actor{ID: w.referentUser[referent], Role: domain.RoleReferent}
	take := func(n *domain.Need, at time.Time) error { return n.TakeCharge(referent, by, at) }
	closeAs := func(s domain.MatchStatus) func(n *domain.Need, at time.Time) error {
		return func(n *domain.Need, at time.Time) error { return n.Close(referent, s, "", by, at) }
	}
	u := r.Float64()
	switch {
	case u < 0.62:
		t1 := sent.Add(r.hours(30, 1.1))
		t2 := t1.Add(r.hours(240, 0.8))
		outcome := domain.MatchDone
		switch v := r.Float64(); {
		case v < 0.15:
			outcome = domain.MatchDoneNoHelp
		case v < 0.28:
			outcome = domain.MatchDoneNotReachable
		}
		acts := []action{{t1, take}, {t2, closeAs(outcome)}}
		if r.Float64() < 0.04 {
			t3 := t2.Add(r.hours(200, 0.5))
			t4 := t3.Add(r.hours(24, 0.5))
			acts = append(acts,
				action{t3, func(n *domain.Need, at time.Time) error { return n.Reopen(referent, "Nouvelle demande", by, at) }},
				action{t4, take}, action{t4.Add(r.hours(120, 0.5)), closeAs(domain.MatchDone)})
		}
		return acts
	case u < 0.80:
		return []action{{sent.Add(r.hours(48, 1)), func(n *domain.Need, at time.Time) error {
			return n.Decline(referent, "Hors de notre champ", by, at)
		}}}
	}
	return nil
}
