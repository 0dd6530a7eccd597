package console

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

type tabLink struct {
	Tab, Label, Href string
	Count            int
	Current          bool
}

type inboxData struct {
	Tabs     []tabLink
	Tab      string
	Rows     []app.MatchRow
	Next     string
	Referent string // an admin's choice, kept in links
}

// inbox is a referent's inbox: five tabs with their counts, and the
// needs of the tab chosen.
func (c *console) inbox(w http.ResponseWriter, r *http.Request, p app.Principal) {
	v := r.URL.Query()
	tab := v.Get("onglet")
	if !slices.Contains(app.InboxTabs(), tab) {
		tab = app.InboxTabs()[0]
	}
	var referent uuid.UUID
	d := inboxData{Tab: tab}
	if p.Role == domain.RoleAdmin {
		referent, _ = uuid.Parse(v.Get("referent"))
		d.Referent = v.Get("referent")
	}
	counts, err := c.d.Service.InboxCounts(r.Context(), p, referent)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	link := func(t string) string {
		q := url.Values{"onglet": {t}}
		if d.Referent != "" {
			q.Set("referent", d.Referent)
		}
		return "/boite?" + q.Encode()
	}
	for _, t := range app.InboxTabs() {
		d.Tabs = append(d.Tabs, tabLink{Tab: t, Label: tabLabel(t), Href: link(t), Count: counts[t], Current: t == tab})
	}
	page, err := c.d.Service.Inbox(r.Context(), p, app.InboxQuery{Referent: referent, Tab: tab, Cursor: v.Get("page"), Limit: 50})
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	d.Rows = page.Items
	if page.NextCursor != "" {
		d.Next = link(tab) + "&page=" + url.QueryEscape(page.NextCursor)
	}
	c.render(w, r, p, http.StatusOK, "inbox", tabLabel(tab), d)
}
