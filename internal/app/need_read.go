package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/keys"
)

// GetNeed returns a need read from its stream (never stale). With asOf, it
// is the need exactly as it stood then: events that happened after are left
// out (the contact shows as erased if its key is gone today). Those who may
// see Signaux Faibles alerts (ActionSFFlags) get its company's flag in the
// list that applied then (or now). It returns ErrNotFound (also when the
// need did not exist yet at asOf), ErrForbidden and the read models'
// errors.
func (s *Service) GetNeed(ctx context.Context, p Principal, needID uuid.UUID, asOf *time.Time) (NeedView, error) {
	if err := s.Authorize(p, ActionReadNeed); err != nil {
		return NeedView{}, err
	}
	key := s.keyAhead(ctx, needID)
	// Scope is decided on today's need: a referent forwarded the need later
	// may read its earlier states.
	l, n, err := s.loadAllowed(ctx, p, needID)
	if err != nil {
		return NeedView{}, err
	}
	if asOf != nil {
		n, err = domain.FoldNeedUntil(needID, l.events, *asOf)
		if err != nil {
			return NeedView{}, fmt.Errorf("fold need %s: %w", needID, err)
		}
		if !n.Exists() {
			return NeedView{}, fmt.Errorf("%w: need %s did not exist yet at %s: it was captured at %s", ErrNotFound,
				needID, asOf.UTC().Format(time.RFC3339), l.events[0].OccurredAt().UTC().Format(time.RFC3339))
		}
	}
	v, err := s.view(ctx, n, key)
	if err != nil {
		return NeedView{}, err
	}
	// As of a past instant, the flag is the list's that applied then.
	if err := s.sfFlag(ctx, p, &v, asOf); err != nil {
		return NeedView{}, err
	}
	return v, nil
}

// aheadKey is a need's contact key read while its stream is: a read costs
// the longer of two round trips instead of their sum. The key is not
// cached beyond one request: an erasure on another replica deletes the key
// row, and only a read of that row can tell; a cache would need a validity
// check that costs the very round trip it saves. Reading the key a moment
// before the stream is as correct as after it: both happen within the
// request, so an erasure that overlaps it may show or not, and one that
// finished before it started always shows (the key row is gone).
type aheadKey struct {
	ch   chan keys.NeedKey
	nk   keys.NeedKey
	done bool
}

// keyAhead starts reading a need's key. A failed read counts as no key:
// openContact then reads it by id, and reports that error if it persists.
// The read outlives a request that ends without its key (not found,
// refused, erased): cancelling a query in flight would cost the pool its
// connection, a one-row read costs less.
func (s *Service) keyAhead(ctx context.Context, needID uuid.UUID) *aheadKey {
	if s.keys == nil {
		return nil
	}
	k := &aheadKey{ch: make(chan keys.NeedKey, 1)}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		nk, err := s.keys.KeyOfNeed(ctx, needID)
		if err != nil {
			nk = keys.NeedKey{}
		}
		k.ch <- nk
	}()
	return k
}

// get waits for the key; nil (no read ahead) gives the zero NeedKey.
func (k *aheadKey) get() keys.NeedKey {
	if k == nil {
		return keys.NeedKey{}
	}
	if !k.done {
		k.nk, k.done = <-k.ch, true
	}
	return k.nk
}

// view renders a folded need, opening its contact (with the key read
// ahead, when there is one).
func (s *Service) view(ctx context.Context, n *domain.Need, key *aheadKey) (NeedView, error) {
	cv, err := s.openContact(ctx, n.Captured().Contact, n.ContactErased(), key)
	if err != nil {
		return NeedView{}, err
	}
	v := render(n, cv)
	s.nameMatches(ctx, v.Matches)
	return v, nil
}

// nameMatches puts the names of referents and organisations beside their
// ids, read from the log once and cached: a client reads "Claire Martin
// (CMA Hauts-de-France)" without a directory lookup of its own.
func (s *Service) nameMatches(ctx context.Context, ms []MatchView) {
	for i := range ms {
		ms[i].ReferentName = s.nameOf(ctx, ms[i].ReferentID)
		ms[i].OrganisationName = s.nameOf(ctx, ms[i].OrganisationID)
	}
}

// render is a folded need's view with its contact as given.
func render(n *domain.Need, cv ContactView) NeedView {
	c := n.Captured()
	v := NeedView{
		ID: n.ID(), Version: n.Version(), Status: n.Status(), SIRET: c.SIRET, CompanyName: c.CompanyName,
		NAFCode: c.NAFCode, Commune: c.Commune, Subject: c.Subject, Description: c.Description, CapturedAt: n.CapturedAt(),
		AdvisorID: c.AdvisorID, Matches: []MatchView{},
	}
	v.Contact = &cv
	for _, m := range n.Matches() {
		v.Matches = append(v.Matches, MatchView{
			ReferentID: m.ReferentID, OrganisationID: m.OrganisationID, Status: m.Status, SentAt: m.SentAt,
			TakenCareOfAt: m.TakenCareOfAt, ClosedAt: m.ClosedAt,
		})
	}
	v.ForwardedAt = optTime(n.ForwardedAt())
	v.FirstTakeChargeAt = optTime(n.FirstTakeChargeAt())
	v.AbandonedAt = optTime(n.AbandonedAt())
	return v
}

func optTime(t time.Time, ok bool) *time.Time {
	if !ok {
		return nil
	}
	return &t
}

// openContact decrypts a sealed contact, or marks it erased.
func (s *Service) openContact(ctx context.Context, sc domain.SealedContact, erased bool, key *aheadKey) (ContactView, error) {
	if erased || sc.KeyID == "" {
		return ContactView{Erased: true}, nil
	}
	if s.keys == nil {
		return ContactView{Unavailable: true}, nil
	}
	c, err := s.keys.OpenWith(ctx, sc, key.get())
	if errors.Is(err, keys.ErrErased) {
		return ContactView{Erased: true}, nil
	}
	if errors.Is(err, keys.ErrUnavailable) || errors.Is(err, keys.ErrCorrupt) {
		// Not the reader's fault, and the rest of the need is readable: say
		// the contact cannot be shown, and tell the operators why.
		s.log.ErrorContext(ctx, "contact cannot be opened", "key_id", sc.KeyID, "err", err)
		return ContactView{Unavailable: true}, nil
	}
	if err != nil {
		return ContactView{}, fmt.Errorf("open contact: %w", err)
	}
	return ContactView{Name: c.Name, Email: c.Email, Phone: c.Phone}, nil
}

// History returns every event of a need, in order, with who did it. Each
// event's data is in its type's current shape (domain.Upcast), whatever
// version the log holds; the sealed contact of the capture is replaced by
// the opened contact (or the erased marker). It returns ErrNotFound and
// ErrForbidden.
func (s *Service) History(ctx context.Context, p Principal, needID uuid.UUID) ([]HistoryEvent, error) {
	if err := s.Authorize(p, ActionReadNeed); err != nil {
		return nil, err
	}
	key := s.keyAhead(ctx, needID)
	l, n, err := s.loadAllowed(ctx, p, needID)
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEvent, 0, len(l.raw))
	for i, raw := range l.raw {
		e := l.events[i]
		// The upcast loadNeed's decoding ran, done again for the JSON.
		_, data, err := domain.Upcast(raw.Type, raw.SchemaVersion, raw.Data)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", needID, err)
		}
		if c, ok := e.(domain.NeedCaptured); ok {
			data, err = s.capturedData(ctx, data, c, n.ContactErased(), key)
			if err != nil {
				return nil, err
			}
		}
		by := e.Actor()
		out = append(out, HistoryEvent{
			Version: raw.Version, Position: raw.Position.String(), Type: raw.Type,
			OccurredAt: e.OccurredAt(), RecordedAt: raw.RecordedAt,
			Actor: ActorView{ID: by.ID, Name: s.actorName(ctx, by), Role: by.Role},
			Data:  data,
		})
	}
	// The mails sent about the need are steps of its history too.
	return s.withNotifications(ctx, needID, out)
}

// capturedData rewrites a NeedCaptured's JSON with the opened contact in
// place of the sealed one.
func (s *Service) capturedData(ctx context.Context, raw json.RawMessage, c domain.NeedCaptured, erased bool, key *aheadKey) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("history of %s: %w", c.NeedID, err)
	}
	cv, err := s.openContact(ctx, c.Contact, erased, key)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(cv)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", c.NeedID, err)
	}
	fields["contact"] = b
	out, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", c.NeedID, err)
	}
	return out, nil
}

// actorName names a user (or, for older simulated data, a referent) from
// the log. A name that cannot be read is left empty: the history still
// says who by id.
func (s *Service) actorName(ctx context.Context, a domain.Actor) string {
	if a.Role == domain.RoleSystem || a.ID == uuid.Nil {
		return "Réso"
	}
	return s.nameOf(ctx, a.ID)
}

// nameOf names a user, a referent or an organisation from its stream: the
// first event's name, or a referent's latest (an import may correct it).
// Names are cached (an import forgets those it changes); "" when the log
// has none.
func (s *Service) nameOf(ctx context.Context, id uuid.UUID) string {
	s.namesMu.RLock()
	name, ok := s.names[id]
	s.namesMu.RUnlock()
	if ok {
		return name
	}
	for _, stream := range []string{domain.UserStream(id), domain.ReferentStream(id), domain.OrganisationStream(id)} {
		limit := 1
		if stream == domain.ReferentStream(id) {
			limit = 0
		}
		raw, err := s.store.ReadStream(ctx, stream, 1, limit)
		if err != nil || len(raw) == 0 {
			continue
		}
		for _, ev := range raw {
			e, err := domain.Unmarshal(ev.Type, ev.SchemaVersion, ev.Data)
			if err != nil {
				continue
			}
			switch e := e.(type) {
			case domain.UserRegistered:
				name = e.Name
			case domain.ReferentRegistered:
				name = e.Name
			case domain.ReferentDetailsChanged:
				name = e.Name
			case domain.OrganisationCreated:
				name = e.Name
			}
		}
		if name != "" {
			s.namesMu.Lock()
			s.names[id] = name
			s.namesMu.Unlock()
			return name
		}
	}
	return ""
}

// forgetName drops id's cached name, after a change of it.
func (s *Service) forgetName(id uuid.UUID) {
	s.namesMu.Lock()
	delete(s.names, id)
	s.namesMu.Unlock()
}

// Suggestions returns the referents routing suggests for a need: active,
// covering its subject on a zone containing its commune. Only those who may
// forward it may ask. It returns ErrNotFound and ErrForbidden.
func (s *Service) Suggestions(ctx context.Context, p Principal, needID uuid.UUID) ([]domain.Coverage, error) {
	if err := s.Authorize(p, ActionSuggestions); err != nil {
		return nil, err
	}
	_, n, err := s.loadAllowed(ctx, p, needID)
	if err != nil {
		return nil, err
	}
	if s.suggester == nil {
		return nil, errors.New("suggestions: no directory read model configured")
	}
	c := n.Captured()
	covs, err := s.suggester.Suggest(ctx, c.Commune, c.Subject)
	if err != nil {
		return nil, fmt.Errorf("suggestions for %s: %w", needID, err)
	}
	if covs == nil {
		covs = []domain.Coverage{}
	}
	return covs, nil
}
