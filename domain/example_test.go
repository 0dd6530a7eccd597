package domain_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

func ExampleParseSIRET() {
	s, err := domain.ParseSIRET("732 829 320 00074")
	fmt.Println(s, s.SIREN(), err)
	_, err = domain.ParseSIRET("732 829 320 00075")
	fmt.Println(err)
	// Output:
	// 73282932000074 732829320 <nil>
	// invalid siret: 73282932000075 has a wrong checksum (Luhn)
}

func ExampleRoute() {
	geo := domain.DefaultGeography()
	referents := []domain.Coverage{
		{ReferentID: uuid.MustParse("00000000-0000-7000-8000-000000000001"), Name: "France Travail", Active: true,
			Subjects: []string{"recruitment"}, Zones: []domain.Zone{domain.National}},
		{ReferentID: uuid.MustParse("00000000-0000-7000-8000-000000000002"), Name: "CCI Grand Lille", Active: true,
			Subjects: []string{"recruitment"}, Zones: []domain.Zone{{Level: domain.LevelEPCI, Code: "200093201"}}},
		{ReferentID: uuid.MustParse("00000000-0000-7000-8000-000000000003"), Name: "CCI Paris", Active: true,
			Subjects: []string{"recruitment"}, Zones: []domain.Zone{{Level: domain.LevelDepartement, Code: "75"}}},
	}
	for _, c := range domain.Route(geo, referents, "59350", "recruitment") { // Lille
		fmt.Println(c.Name)
	}
	// Output:
	// CCI Grand Lille
	// France Travail
}

func ExampleNeed_ChangeMatch() {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	advisor := domain.Actor{ID: uuid.MustParse("00000000-0000-7000-8000-00000000000a"), Role: domain.RoleAdvisor}
	ref := domain.MatchRef{ReferentID: uuid.MustParse("00000000-0000-7000-8000-000000000001"), OrganisationID: uuid.MustParse("00000000-0000-7000-8000-000000000002")}
	referent := domain.Actor{ID: ref.ReferentID, Role: domain.RoleReferent}

	n := domain.NewNeed(uuid.MustParse("00000000-0000-7000-8000-0000000000ff"))
	_ = n.Capture(domain.Capture{SIRET: "73282932000074", CompanyName: "Boulangerie", Commune: "59350", Subject: "recruitment",
		Description: "Deux boulangers", Contact: domain.SealedContact{KeyID: "k", Ciphertext: []byte{1}}, AdvisorID: advisor.ID}, nil, advisor, at)
	_ = n.Forward([]domain.MatchRef{ref}, advisor, at.Add(time.Hour))
	_ = n.TakeCharge(ref.ReferentID, referent, at.Add(26*time.Hour))
	err := n.Decline(ref.ReferentID, "trop tard", referent, at.Add(27*time.Hour))
	fmt.Println(err, errors.Is(err, domain.ErrInvalidTransition))
	_ = n.Close(ref.ReferentID, domain.MatchDone, "", referent, at.Add(72*time.Hour))
	first, _ := n.FirstTakeChargeAt()
	forwarded, _ := n.ForwardedAt()
	fmt.Println(n.Status(), first.Sub(forwarded), len(n.Changes()), "events")
	// Output:
	// cannot go from taking_care to not_for_me true
	// done 25h0m0s 4 events
}
