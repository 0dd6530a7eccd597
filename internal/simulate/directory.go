package simulate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
)

// Région Hauts-de-France and its départements.
const region = "32"

var departements = []string{"02", "59", "60", "62", "80"}

type orgSpec struct {
	name     string
	kind     domain.OrganisationKind
	themes   []string
	deps     []string // antennes, one per département; nil: one regional antenne
	perAnt   int      // referents per antenne
	antLabel string
}

var orgSpecs = []orgSpec{
	{"CCI Hauts-de-France", domain.KindCCI, []string{"development", "digital", "international", "real_estate"}, departements, 2, "CCI"},
	{"CMA Hauts-de-France", domain.KindCMA, []string{"transfer", "development", "regulation", "digital"}, departements, 2, "CMA"},
	{"DREETS Hauts-de-France", domain.KindDREETS, []string{"human_resources", "regulation", "difficulties"}, nil, 4, "DREETS"},
	{"Région Hauts-de-France", domain.KindRegion, []string{"financing", "innovation", "ecology"}, nil, 3, "Région"},
	{"France Travail Hauts-de-France", domain.KindFranceTravail, []string{"human_resources"}, departements, 1, "France Travail"},
	{"URSSAF Nord-Pas-de-Calais", domain.KindURSSAF, []string{"difficulties"}, []string{"59", "62"}, 2, "URSSAF"},
	{"URSSAF Picardie", domain.KindURSSAF, []string{"difficulties"}, []string{"02", "60", "80"}, 1, "URSSAF"},
	{"Bpifrance Hauts-de-France", domain.KindBpifrance, []string{"financing", "innovation", "international"}, nil, 4, "Bpifrance"},
	{"Chambre d'agriculture du Nord-Pas de Calais", domain.KindChambreAgriculture, []string{"ecology", "transfer"}, []string{"59", "62"}, 2, "Chambre d'agriculture"},
	{"Chambre d'agriculture de la Somme", domain.KindChambreAgriculture, []string{"ecology", "transfer"}, []string{"80"}, 2, "Chambre d'agriculture"},
	{"BGE Hauts-de-France", domain.KindOther, []string{"financing", "transfer", "development", "real_estate"}, departements, 2, "BGE"},
}

var firstNames = []string{"Camille", "Julien", "Sophie", "Thomas", "Nadia", "Karim", "Claire", "Antoine", "Léa", "Hugo",
	"Inès", "Mathieu", "Chloé", "Nicolas", "Sarah", "Yann", "Emma", "Lucas", "Manon", "Rachid"}
var lastNames = []string{"Martin", "Bernard", "Dubois", "Lefebvre", "Leroy", "Moreau", "Lambert", "Dupont", "Fontaine",
	"Rousseau", "Vincent", "Masson", "Caron", "Lemaire", "Duhamel", "Delattre", "Vasseur", "Carpentier", "Dumont", "Boucher"}

// Referent is a simulated referent and the user account that acts for it.
type Referent struct {
	ID             uuid.UUID
	UserID         uuid.UUID
	OrganisationID uuid.UUID
	Name           string
}

// Directory is the simulated directory: who exists, for the demo to give
// them tokens.
type Directory struct {
	Organisations []uuid.UUID
	Referents     []Referent
	// Users holds user ids by role (referents' users included).
	Users map[domain.Role][]uuid.UUID
	// Names of the users, by id.
	Names map[uuid.UUID]string
}

// streamEvents is what one append writes.
type streamEvents struct {
	stream string
	events []domain.Event
}

// directory decides the directory's events, at instant at.
func buildDirectory(r rng, geo *domain.Geography, at time.Time) (Directory, []domain.Coverage, []streamEvents, error) {
	d := Directory{Users: make(map[domain.Role][]uuid.UUID), Names: make(map[uuid.UUID]string)}
	var out []streamEvents
	var covs []domain.Coverage
	person := func() (string, string) {
		f, l := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		return f + " " + l, strings.ToLower(ascii(f)+"."+ascii(l)) + "@example.fr"
	}
	user := func(by domain.Actor, u domain.UserRegistration) (domain.Actor, error) {
		ev, err := domain.RegisterUser(u, geo, by, at)
		if err != nil {
			return domain.Actor{}, fmt.Errorf("simulate user %s: %w", u.Name, err)
		}
		out = append(out, streamEvents{domain.UserStream(u.UserID), []domain.Event{ev}})
		d.Users[u.Role] = append(d.Users[u.Role], u.UserID)
		d.Names[u.UserID] = u.Name
		return domain.Actor{ID: u.UserID, Role: u.Role}, nil
	}
	system := domain.Actor{Role: domain.RoleSystem}
	admin, err := user(system, domain.UserRegistration{UserID: r.idAt(at), Name: "Administratrice Réso", Email: "admin@example.fr", Role: domain.RoleAdmin})
	if err != nil {
		return d, nil, nil, err
	}
	allSubjects := domain.Subjects()
	var orgIDs []uuid.UUID
	for _, spec := range orgSpecs {
		// The organisation's stream is appended before its referents', as
		// the service requires (the ids keep their order of drawing).
		orgAt := len(out)
		orgID := r.idAt(at)
		orgIDs = append(orgIDs, orgID)
		d.Organisations = append(d.Organisations, orgID)
		oc, err := domain.NewOrganisation(orgID, spec.name, spec.kind, admin, at)
		if err != nil {
			return d, nil, nil, fmt.Errorf("simulate organisation %s: %w", spec.name, err)
		}
		orgEvents := []domain.Event{oc}
		var subjects []string
		for _, s := range allSubjects {
			if slices.Contains(spec.themes, s.Theme) {
				subjects = append(subjects, s.Code)
			}
		}
		zones := []domain.Zone{{Level: domain.LevelRegion, Code: region}}
		if spec.deps != nil {
			zones = nil
			for _, dep := range spec.deps {
				zones = append(zones, domain.Zone{Level: domain.LevelDepartement, Code: dep})
			}
		}
		for _, z := range zones {
			antID := r.idAt(at)
			ac, err := domain.NewAntenne(orgID, antID, spec.antLabel+" "+geo.ZoneName(z), z, geo, admin, at)
			if err != nil {
				return d, nil, nil, fmt.Errorf("simulate antenne: %w", err)
			}
			orgEvents = append(orgEvents, ac)
			for j := 0; j < spec.perAnt; j++ {
				var mine []string
				for k, s := range subjects {
					if k%spec.perAnt == j {
						mine = append(mine, s)
					}
				}
				name, email := person()
				refID := r.idAt(at)
				rr, err := domain.RegisterReferent(domain.ReferentRegistration{ReferentID: refID, OrganisationID: orgID,
					AntenneID: antID, Name: name, Email: email, Subjects: mine, Zones: []domain.Zone{z}}, geo, admin, at)
				if err != nil {
					return d, nil, nil, fmt.Errorf("simulate referent: %w", err)
				}
				out = append(out, streamEvents{domain.ReferentStream(refID), []domain.Event{rr}})
				covs = append(covs, domain.Coverage{ReferentID: refID, OrganisationID: orgID, Name: name, Subjects: mine, Zones: []domain.Zone{z}, Active: true})
				uid := r.idAt(at)
				if _, err := user(admin, domain.UserRegistration{UserID: uid, Name: name, Email: email,
					Role: domain.RoleReferent, OrganisationID: orgID, ReferentID: refID}); err != nil {
					return d, nil, nil, err
				}
				d.Referents = append(d.Referents, Referent{ID: refID, UserID: uid, OrganisationID: orgID, Name: name})
			}
		}
		out = slices.Insert(out, orgAt, streamEvents{domain.OrganisationStream(orgID), orgEvents})
	}
	for i := 0; i < 20; i++ {
		name, email := person()
		if _, err := user(admin, domain.UserRegistration{UserID: r.idAt(at), Name: name, Email: "conseiller" + itoa(i) + "." + email,
			Role: domain.RoleAdvisor, OrganisationID: orgIDs[i%len(orgIDs)]}); err != nil {
			return d, nil, nil, err
		}
	}
	for i, z := range []domain.Zone{{Level: domain.LevelRegion, Code: region}, {Level: domain.LevelDepartement, Code: "59"}, {Level: domain.LevelDepartement, Code: "62"}} {
		name, email := person()
		if _, err := user(admin, domain.UserRegistration{UserID: r.idAt(at), Name: name, Email: "animation" + itoa(i) + "." + email,
			Role: domain.RoleAnimateur, Territories: []domain.Zone{z}}); err != nil {
			return d, nil, nil, err
		}
	}
	if _, err := user(admin, domain.UserRegistration{UserID: r.idAt(at), Name: "Direction générale des Entreprises", Email: "financeur@example.fr", Role: domain.RoleFunder}); err != nil {
		return d, nil, nil, err
	}
	return d, covs, out, nil
}

// ascii drops accents from names for e-mail addresses.
func ascii(s string) string {
	return strings.NewReplacer("é", "e", "è", "e", "ë", "e", "ï", "i", "î", "i", "ç", "c", "à", "a", "É", "E", " ", "").Replace(s)
}
