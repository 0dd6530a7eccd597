package console

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/app"
)

// basketLine is one group of the dashboard, named.
type basketLine struct {
	app.BasketCount
	Label, Href string
}

type dashboardData struct {
	Totals         app.BasketCount
	BySubject      []basketLine
	ByOrganisation []basketLine
	Territories    []string
}

// dashboard is an animateur's territory: the needs in each reminder
// basket, by subject and by organisation, each linking to the list.
func (c *console) dashboard(w http.ResponseWriter, r *http.Request, p app.Principal) {
	db, err := c.d.Service.Dashboard(r.Context(), p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	names, err := c.orgNames(r, p)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	d := dashboardData{Totals: db.Baskets}
	for _, b := range db.BySubject {
		d.BySubject = append(d.BySubject, basketLine{BasketCount: b, Label: subjectLabel(b.Key), Href: "/besoins?sujet=" + b.Key})
	}
	for _, b := range db.ByOrganisation {
		id, _ := uuid.Parse(b.Key)
		label := names[id]
		if label == "" {
			label = "Organisation " + b.Key[:min(8, len(b.Key))]
		}
		d.ByOrganisation = append(d.ByOrganisation, basketLine{BasketCount: b, Label: label, Href: "/besoins?organisation=" + b.Key})
	}
	for _, z := range p.Territories {
		d.Territories = append(d.Territories, zoneName(z))
	}
	c.render(w, r, p, http.StatusOK, "dashboard", "Tableau de bord", d)
}
