package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/keys"
)

// Erase deletes the keys of the matching data subjects (by contact email, or
// every contact of a SIRET) and appends ContactErased to every need sealed
// under them: reads then show the contact as erased, history keeps every
// event, and no key remains to decrypt the ciphertext. Needs left over by an
// earlier erasure that failed half-way are completed too. It returns
// ErrForbidden (admin only), a *domain.ValidationError when neither or both
// of email and SIRET are given, and storage errors.
func (s *Service) Erase(ctx context.Context, p Principal, in EraseInput, m CommandMeta) (EraseResult, eventstore.Position, error) {
	if err := s.Authorize(p, ActionErase); err != nil {
		return EraseResult{}, eventstore.Position{}, err
	}
	email, siret := strings.TrimSpace(in.ContactEmail), strings.TrimSpace(in.SIRET)
	if (email == "") == (siret == "") {
		return EraseResult{}, eventstore.Position{}, &domain.ValidationError{Field: "contact_email", Message: "give either a contact email or a SIRET"}
	}
	if s.keys == nil {
		return EraseResult{}, eventstore.Position{}, fmt.Errorf("erase: %w", keys.ErrNoMasterKey)
	}
	var ids []string
	var err error
	if email != "" {
		ids, err = s.keys.EraseByEmail(ctx, email)
	} else {
		sv, perr := domain.ParseSIRET(siret)
		if perr != nil {
			return EraseResult{}, eventstore.Position{}, perr
		}
		ids, err = s.keys.EraseBySIRET(ctx, string(sv))
	}
	if err != nil {
		return EraseResult{}, eventstore.Position{}, fmt.Errorf("erase: %w", err)
	}
	res := EraseResult{Keys: len(ids)}
	pending, err := s.keys.Pending(ctx)
	if err != nil {
		return res, eventstore.Position{}, fmt.Errorf("erase: %w", err)
	}
	var last eventstore.Position
	for _, kn := range pending {
		pos, err := s.eraseContact(ctx, p, kn.NeedID, m)
		if err != nil {
			return res, last, fmt.Errorf("erase contact of %s: %w", kn.NeedID, err)
		}
		if last.Less(pos) {
			last = pos
		}
		if !pos.IsZero() {
			res.Needs++
		}
		if err := s.keys.MarkErased(ctx, kn); err != nil {
			return res, last, err
		}
	}
	s.log.InfoContext(ctx, "contacts erased", "keys", res.Keys, "needs", res.Needs, "by", p.UserID)
	return res, last, nil
}
