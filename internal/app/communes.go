package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/reso-fr/reso/domain"
)

// MaxCommunes bounds a commune search.
const MaxCommunes = 20

// CommuneView is a commune as searches show it.
type CommuneView struct {
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	PostalCodes []string `json:"postal_codes"`
	Departement string   `json:"departement"`
	Region      string   `json:"region"`
}

func communeView(c domain.Commune) CommuneView {
	pcs := append([]string{}, c.PostalCodes...)
	return CommuneView{Code: c.Code, Name: c.Name, PostalCodes: pcs, Departement: c.Departement, Region: c.Region}
}

// SearchCommunes finds at most MaxCommunes communes by name (case and
// accents ignored), postal code or INSEE code. It returns a
// *ForbiddenError and a *domain.ValidationError for an empty query.
func (s *Service) SearchCommunes(p Principal, query string) ([]CommuneView, error) {
	if err := s.Authorize(p, ActionCommunes); err != nil {
		return nil, err
	}
	if strings.TrimSpace(query) == "" {
		return nil, &domain.ValidationError{Field: "q", Message: "a name, a postal code or an INSEE code"}
	}
	cs := s.geo.SearchCommunes(query, MaxCommunes)
	out := make([]CommuneView, len(cs))
	for i, c := range cs {
		out[i] = communeView(c)
	}
	return out, nil
}

// candidates names communes as "59527 Saint-André-lez-Lille".
func candidates(cs []domain.Commune) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Code + " " + c.Name
	}
	return strings.Join(names, ", ")
}

// resolveCommune turns a capture's place into an INSEE code. A postal code
// must serve one commune, or agree with the commune given beside it. It
// returns the code and, when the place is refused, a
// *domain.ValidationError that names the candidates; an unknown commune
// that is in fact a postal code is explained so.
func (s *Service) resolveCommune(commune, postalCode string) (string, error) {
	commune, postalCode = strings.TrimSpace(commune), strings.TrimSpace(postalCode)
	if postalCode == "" {
		if _, ok := s.geo.Commune(commune); !ok && commune != "" {
			if cs := s.geo.CommunesByPostalCode(commune); len(cs) > 0 {
				return commune, &domain.ValidationError{Field: "commune", Message: fmt.Sprintf(
					"unknown commune %q: it is a postal code, of %s; send the commune's INSEE code as commune, or the postal code as postal_code",
					commune, candidates(cs))}
			}
		}
		return commune, nil
	}
	cs := s.geo.CommunesByPostalCode(postalCode)
	switch {
	case len(cs) == 0:
		return commune, &domain.ValidationError{Field: "postal_code", Message: fmt.Sprintf("unknown postal code %q", postalCode)}
	case commune != "":
		for _, c := range cs {
			if c.Code == commune {
				return commune, nil
			}
		}
		return commune, &domain.ValidationError{Field: "postal_code", Message: fmt.Sprintf(
			"postal code %s does not serve commune %q; it serves %s", postalCode, commune, candidates(cs))}
	case len(cs) > 1:
		return "", &domain.ValidationError{Field: "postal_code", Message: fmt.Sprintf(
			"postal code %s serves %d communes: %s; send the INSEE code of one as commune", postalCode, len(cs), candidates(cs))}
	}
	return cs[0].Code, nil
}

// withoutField drops the validation errors of field from err.
func withoutField(err error, field string) error {
	var ves domain.ValidationErrors
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ves):
		var keep []error
		for _, e := range ves {
			if e.Field != field {
				keep = append(keep, e)
			}
		}
		return domain.JoinValidation(keep...)
	case errors.As(err, &ve) && ve.Field == field:
		return nil
	}
	return err
}
