package simulate

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
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
	// Writers append steps concurrently (default 4); the steps of one need
	// all go to the same writer, in order. As many goroutines decide the
	// needs' lives.
	Writers int
	// Now: nothing after it happens, so recent needs are still open
	// (default Start + Months).
	Now time.Time
	// Sealer seals contacts (nil: a dummy holding no plaintext).
	Sealer Sealer
	// Geography (nil: domain.DefaultGeography()).
	Geography *domain.Geography
	// SignauxFaibles adds the Signaux Faibles lists an admin imports each
	// month, and needs of the companies they name (signaux.go).
	SignauxFaibles bool
	// Progress, when set, is called after each append of a need's step with
	// the needs begun (whose capture is written) and the events written so
	// far (from several goroutines).
	Progress func(needs, events int64)
}

// Result says what the simulation wrote.
type Result struct {
	Directory
	// Needs captured (a need whose capture would come after Now is not).
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

// Run writes a simulated directory and o's needs into store, in about the
// order a live system would have: one append per step, steps in
// chronological order. The same options give the same events with the same
// ids. It returns the first error of the domain, the sealer or the store.
//
// Needs are decided in index order, by a pool of goroutines whose results
// are taken in that order; need i is captured in month i*Months/total, so
// once the first need of month m is decided no later need can have a step
// before the start of month m, and every pending step before it is sent to
// the writers, earliest first. Writer hash(stream) % Writers appends them
// in the order received, which keeps each stream's steps in order.
func Run(ctx context.Context, store eventstore.Store, o Options) (Result, error) {
	o.defaults()
	var res Result
	dir, covs, dirEvents, err := buildDirectory(newRNG(o.Seed, 1), o.Geography, o.Start.AddDate(0, 0, -30))
	if err != nil {
		return res, err
	}
	res.Directory = dir
	meta := newRNG(o.Seed, 2)
	for _, se := range dirEvents {
		news, err := newEvents(meta, se.events, uuid.Nil)
		if err != nil {
			return res, err
		}
		p, err := appendEvents(ctx, store, se.stream, eventstore.NoStream, news)
		if err != nil {
			return res, err
		}
		if res.Last.Less(p) {
			res.Last = p
		}
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
	var lists []step
	if o.SignauxFaibles {
		w.sfPool = sfPool(newRNG(o.Seed, 3), w.communes, total)
		if lists, err = sfSteps(&o, w.sfPool, dir.Users[domain.RoleAdmin][0]); err != nil {
			return res, err
		}
	}
	needs, events, last, err := w.run(ctx, store, total, res.Events, lists)
	if err != nil {
		return res, err
	}
	res.Needs, res.Events = needs, events
	if res.Last.Less(last) {
		res.Last = last
	}
	return res, nil
}

// writerQueue is how many steps a writer's channel holds.
const writerQueue = 256

// run decides needs 0 to total-1 and appends their steps, and the steps of
// lists, in chronological order (see Run). events is what is already
// written (the directory). It returns the needs captured, the events
// written and the last position.
func (w *world) run(parent context.Context, store eventstore.Store, total int, events int64, lists []step) (int, int64, eventstore.Position, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		errOnce  sync.Once
		firstErr error
		written  atomic.Int64
		begun    atomic.Int64
	)
	written.Store(events)
	fail := func(err error) { errOnce.Do(func() { firstErr = err; cancel() }) }

	// Deciding: a feeder hands out indexes; each need's plan comes back on
	// a channel of its own, queued in index order on order. order's buffer
	// bounds how far deciding runs ahead of the merge: about a month of
	// needs, so that deciding a month overlaps writing the one before.
	perMonth := (total + w.o.Months - 1) / w.o.Months
	type job struct {
		i   int
		out chan<- plan
	}
	jobs := make(chan job)
	order := make(chan chan plan, perMonth+2*w.o.Writers)
	var deciders sync.WaitGroup
	deciders.Add(1)
	go func() {
		defer deciders.Done()
		defer close(order)
		defer close(jobs)
		for i := 0; i < total; i++ {
			c := make(chan plan, 1)
			select {
			case order <- c:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{i, c}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range w.o.Writers {
		deciders.Add(1)
		go func() {
			defer deciders.Done()
			for j := range jobs {
				p, err := w.need(ctx, j.i, total)
				if err != nil {
					fail(err)
				}
				j.out <- p
			}
		}()
	}

	// Writing: one goroutine and one channel per writer.
	queues := make([]chan step, w.o.Writers)
	lasts := make([]eventstore.Position, w.o.Writers)
	var writers sync.WaitGroup
	for k := range queues {
		queues[k] = make(chan step, writerQueue)
		writers.Add(1)
		go func() {
			defer writers.Done()
			for s := range queues[k] {
				if ctx.Err() != nil {
					continue
				}
				expected := eventstore.NoStream
				if s.version > 0 {
					expected = eventstore.Exactly(s.version)
				}
				p, err := appendEvents(ctx, store, s.stream, expected, s.events)
				if err != nil {
					fail(err)
					continue
				}
				if lasts[k].Less(p) {
					lasts[k] = p
				}
				ev, nd := written.Add(int64(len(s.events))), begun.Load()
				if s.index == 0 {
					nd = begun.Add(1)
				}
				if w.o.Progress != nil {
					w.o.Progress(nd, ev)
				}
			}
		}()
	}
	send := func(s step) bool {
		h := fnv.New32a()
		h.Write([]byte(s.stream))
		select {
		case queues[h.Sum32()%uint32(len(queues))] <- s:
			return true
		case <-ctx.Done():
			return false
		}
	}

	// Merging, in this goroutine.
	pending := stepHeap(lists)
	heap.Init(&pending)
	captured := 0
	month := -1
merge:
	for c := range order {
		var p plan
		select {
		case p = <-c:
		case <-ctx.Done():
			break merge
		}
		if p.month != month {
			month = p.month
			start := w.o.Start.AddDate(0, month, 0)
			for len(pending) > 0 && pending[0].at.Before(start) {
				if !send(heap.Pop(&pending).(step)) {
					break merge
				}
			}
		}
		if len(p.steps) > 0 {
			captured++
		}
		for _, s := range p.steps {
			heap.Push(&pending, s)
		}
	}
	for len(pending) > 0 && ctx.Err() == nil {
		if !send(heap.Pop(&pending).(step)) {
			break
		}
	}
	for _, q := range queues {
		close(q)
	}
	writers.Wait()
	cancel()
	deciders.Wait()
	if firstErr != nil {
		return 0, 0, eventstore.Position{}, firstErr
	}
	if err := parent.Err(); err != nil {
		return 0, 0, eventstore.Position{}, err
	}
	var last eventstore.Position
	for _, p := range lasts {
		if last.Less(p) {
			last = p
		}
	}
	return captured, written.Load(), last, nil
}

// plan is a need's life, decided: its steps, or none when it is captured
// after Now.
type plan struct {
	month int
	steps []step
}

// step is what happens to a need at one instant: one append.
type step struct {
	at     time.Time
	need   int // the need's index
	index  int // the step's index in the need's life
	stream string
	// version is how many of the stream's events come before the step's.
	version int64
	events  []eventstore.NewEvent
}

// stepHeap orders pending steps by instant, then need, then index.
type stepHeap []step

func (h stepHeap) Len() int { return len(h) }
func (h stepHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	if h[i].need != h[j].need {
		return h[i].need < h[j].need
	}
	return h[i].index < h[j].index
}
func (h stepHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *stepHeap) Push(x any)   { *h = append(*h, x.(step)) }
func (h *stepHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = step{}
	*h = old[:len(old)-1]
	return s
}

// newEvents marshals events for the store. Event ids come from r, in event
// order, so that a seed fixes them whatever order the appends run in.
func newEvents(r rng, evs []domain.Event, correlation uuid.UUID) ([]eventstore.NewEvent, error) {
	news := make([]eventstore.NewEvent, len(evs))
	for i, e := range evs {
		typ, v, data, err := domain.Marshal(e)
		if err != nil {
			return nil, err
		}
		news[i] = eventstore.NewEvent{ID: r.idAt(e.OccurredAt()), Type: typ, SchemaVersion: v, Data: data,
			Metadata: eventstore.Metadata{ActorID: idString(e.Actor().ID), ActorRole: string(e.Actor().Role), CorrelationID: idString(correlation)}}
	}
	return news, nil
}

// appendEvents appends news to stream with expected. A concurrency error is
// retried when the stream turns out to hold these very events already (an
// append whose answer was lost), and returned otherwise.
func appendEvents(ctx context.Context, store eventstore.Store, stream string, expected eventstore.ExpectedVersion, news []eventstore.NewEvent) (eventstore.Position, error) {
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
	sfPool       []sfCompany // with Options.SignauxFaibles
}

// action is a command planned at an instant. The rules may refuse it (it
// then does not happen) unless it is strict.
type action struct {
	at     time.Time
	do     func(n *domain.Need, at time.Time) error
	strict bool
}

const day = 24 * time.Hour

// need decides need number i's whole life and cuts its events into steps:
// the runs of consecutive events at the same instant (capture, forward,
// each later action). Event ids come from the need's own generator.
func (w *world) need(ctx context.Context, i, total int) (plan, error) {
	r := newRNG(w.o.Seed, 1000+uint64(i))
	month := i * w.o.Months / total
	p := plan{month: month}
	from := w.o.Start.AddDate(0, month, 0)
	span := w.o.Start.AddDate(0, month+1, 0).Sub(from)
	capturedAt := from.Add(time.Duration(r.Int64N(int64(span/day))) * day).Add(8*time.Hour + time.Duration(r.Int64N(int64(10*time.Hour))))
	if capturedAt.After(w.o.Now) {
		return p, nil
	}
	id := r.idAt(capturedAt)
	siret := r.siret()
	advisor := domain.Actor{ID: w.advisors[r.IntN(len(w.advisors))], Role: domain.RoleAdvisor}
	commune := w.communes.pick(r)
	subject := w.subjects[r.IntN(len(w.subjects))].Code
	if len(w.sfPool) > 0 && r.Float64() < sfShare {
		c := w.sfPool[r.IntN(len(w.sfPool))]
		siret, commune = c.siret, c.commune
	}
	sealed, err := w.o.Sealer.Seal(ctx, id, siret, Contact{Name: "Contact " + itoa(i), Email: "contact" + itoa(i) + "@entreprise.example", Phone: "0300000000"})
	if err != nil {
		return p, fmt.Errorf("seal contact of need %s: %w", id, err)
	}
	n := domain.NewNeed(id)
	if err := n.Capture(domain.Capture{SIRET: siret, CompanyName: "Entreprise " + itoa(i), Commune: commune, Subject: subject,
		Description: "Besoin simulé numéro " + itoa(i), Contact: sealed, AdvisorID: advisor.ID}, w.o.Geography, advisor, capturedAt); err != nil {
		return p, fmt.Errorf("simulate need %d: %w", i, err)
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
		// The forward is an action like the others, so that a comment
		// made before it is also recorded before it.
		acts = append(acts, action{at: forwardAt, strict: true, do: func(n *domain.Need, at time.Time) error {
			return n.Forward(refs, advisor, at)
		}})
		for _, ref := range refs {
			acts = append(acts, w.matchLife(r, ref.ReferentID, forwardAt)...)
		}
		anim := domain.Actor{ID: w.animateurs[r.IntN(len(w.animateurs))], Role: domain.RoleAnimateur}
		for _, rem := range []struct {
			days int
			kind domain.ReminderKind
		}{{9, domain.ReminderPoke}, {21, domain.ReminderLastChance}} {
			acts = append(acts, action{at: forwardAt.Add(time.Duration(rem.days) * day), do: func(n *domain.Need, at time.Time) error {
				if !n.Waiting() {
					return nil
				}
				return n.Remind(rem.kind, anim, at)
			}})
		}
		acts = append(acts, action{at: forwardAt.Add(45 * day), do: func(n *domain.Need, at time.Time) error {
			if !n.Waiting() {
				return nil
			}
			return n.Abandon("Aucune prise en charge en 45 jours", domain.Actor{Role: domain.RoleSystem}, at)
		}})
	}
	if r.Float64() < 0.1 {
		acts = append(acts, action{at: capturedAt.Add(r.hours(48, 1)), do: func(n *domain.Need, at time.Time) error {
			return n.Comment("Entreprise recontactée, besoin confirmé.", advisor, at)
		}})
	}
	slices.SortStableFunc(acts, func(a, b action) int { return a.at.Compare(b.at) })
	for _, a := range acts {
		if a.at.After(w.o.Now) {
			break
		}
		// A step the rules refuse (a referent answering an abandoned need)
		// simply does not happen.
		if err := a.do(n, a.at); err != nil && (a.strict || !isRuleRefusal(err)) {
			return p, fmt.Errorf("simulate need %d: %w", i, err)
		}
	}
	changes := n.Changes()
	news, err := newEvents(r, changes, id)
	if err != nil {
		return p, fmt.Errorf("simulate need %d: %w", i, err)
	}
	stream := domain.NeedStream(id)
	for j := 0; j < len(changes); {
		at := changes[j].OccurredAt()
		k := j + 1
		for k < len(changes) && changes[k].OccurredAt().Equal(at) {
			k++
		}
		p.steps = append(p.steps, step{at: at, need: i, index: len(p.steps), stream: stream, version: int64(j), events: news[j:k:k]})
		j = k
	}
	return p, nil
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
		acts := []action{{at: t1, do: take}, {at: t2, do: closeAs(outcome)}}
		if r.Float64() < 0.04 {
			t3 := t2.Add(r.hours(200, 0.5))
			t4 := t3.Add(r.hours(24, 0.5))
			acts = append(acts,
				action{at: t3, do: func(n *domain.Need, at time.Time) error { return n.Reopen(referent, "Nouvelle demande", by, at) }},
				action{at: t4, do: take}, action{at: t4.Add(r.hours(120, 0.5)), do: closeAs(domain.MatchDone)})
		}
		return acts
	case u < 0.80:
		return []action{{at: sent.Add(r.hours(48, 1)), do: func(n *domain.Need, at time.Time) error {
			return n.Decline(referent, "Hors de notre champ", by, at)
		}}}
	}
	return nil
}
