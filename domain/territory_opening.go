package domain

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Opening is the date the service opened in a région or a département.
type Opening struct {
	Zone     Zone   `json:"zone"`
	OpenedOn string `json:"opened_on"` // YYYY-MM-DD
}

// Openings is the fold of the TerritoryOpened events: the opening date of
// each région and département that opened. It is not safe for concurrent
// use.
type Openings struct {
	on map[Zone]string
}

// NewOpenings returns the openings of list (none: a network that opened
// nowhere yet); a later entry for a zone wins.
func NewOpenings(list ...Opening) *Openings {
	o := &Openings{on: make(map[Zone]string, len(list))}
	for _, op := range list {
		o.on[op.Zone] = op.OpenedOn
	}
	return o
}

// Apply folds one event: a TerritoryOpened sets its zone's date (a later one
// replaces it); every other event is ignored, so that a caller may feed it
// any stream.
func (o *Openings) Apply(e Event) {
	if t, ok := e.(TerritoryOpened); ok {
		o.on[t.Zone] = t.OpenedOn
	}
}

// Open records that the service opens in zone (a région or a département
// known in geo; nil geo is DefaultGeography) on date on ("YYYY-MM-DD"). It
// returns the event and true; when zone already opened on that date, no
// event and false: opening twice is a no-op, a new date corrects the old
// one. It returns a *ValidationError (fields "zone", "at").
func (o *Openings) Open(zone Zone, on string, geo *Geography, by Actor, at time.Time) (TerritoryOpened, bool, error) {
	if geo == nil {
		geo = DefaultGeography()
	}
	if zone.Level != LevelRegion && zone.Level != LevelDepartement {
		return TerritoryOpened{}, false, invalid("zone", "a territory that opens is a région or a département, not a %s", zone.Level)
	}
	if err := geo.ValidZone(zone); err != nil {
		return TerritoryOpened{}, false, err
	}
	on = strings.TrimSpace(on)
	d, err := time.Parse(time.DateOnly, on)
	if err != nil || d.Year() < 1 {
		return TerritoryOpened{}, false, invalid("at", "%q is not a date YYYY-MM-DD", on)
	}
	if err := checkAt(at); err != nil {
		return TerritoryOpened{}, false, err
	}
	if o.on[zone] == on {
		return TerritoryOpened{}, false, nil
	}
	return TerritoryOpened{Meta: newMeta(by, at), Zone: zone, OpenedOn: on}, true, nil
}

// List returns every opening: régions first, then départements, each by
// code.
func (o *Openings) List() []Opening {
	out := make([]Opening, 0, len(o.on))
	for z, on := range o.on {
		out = append(out, Opening{Zone: z, OpenedOn: on})
	}
	slices.SortFunc(out, func(a, b Opening) int {
		return cmp.Or(b.Zone.Rank()-a.Zone.Rank(), strings.Compare(a.Zone.Code, b.Zone.Code))
	})
	return out
}

// ForPlace returns the opening that counts for a need placed in département
// departement of région region: the département's own opening when it has
// one, otherwise its région's. Either may be "" (statistics rolled up over
// départements know the région only).
func (o *Openings) ForPlace(departement, region string) (Opening, bool) {
	for _, z := range []Zone{{Level: LevelDepartement, Code: departement}, {Level: LevelRegion, Code: region}} {
		if z.Code == "" {
			continue
		}
		if on, ok := o.on[z]; ok {
			return Opening{Zone: z, OpenedOn: on}, true
		}
	}
	return Opening{}, false
}

// MonthsSinceOpening counts whole calendar months from the month of
// openedOn ("YYYY-MM-DD") to month ("YYYY-MM"): 0 in the month of the
// opening, 1 the next month, negative before. It returns false when either
// does not parse.
func MonthsSinceOpening(openedOn, month string) (int, bool) {
	if len(openedOn) < 7 {
		return 0, false
	}
	a, err1 := time.Parse("2006-01", openedOn[:7])
	b, err2 := time.Parse("2006-01", month)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month()), true
}
