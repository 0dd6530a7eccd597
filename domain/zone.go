package domain

import "strings"

// National is the zone of the whole country.
var National = Zone{Level: LevelNational}

// zoneRank orders levels from the most specific (0) to national (4).
var zoneRank = map[ZoneLevel]int{
	LevelCommune:     0,
	LevelEPCI:        1,
	LevelDepartement: 2,
	LevelRegion:      3,
	LevelNational:    4,
}

// Rank returns how broad the zone's level is: 0 for a commune up to 4 for
// national, and 5 for an unknown level.
func (z Zone) Rank() int {
	r, ok := zoneRank[z.Level]
	if !ok {
		return len(zoneRank)
	}
	return r
}

// String writes the zone as "<level>:<code>", or "national".
func (z Zone) String() string {
	if z.Level == LevelNational {
		return string(LevelNational)
	}
	return string(z.Level) + ":" + z.Code
}

// ParseZone reads a zone written by Zone.String ("departement:59",
// "national"). It checks the shape only; Geography.ValidZone checks that the
// territory exists. It returns a *ValidationError (field "zone").
func ParseZone(s string) (Zone, error) {
	level, code, _ := strings.Cut(strings.TrimSpace(s), ":")
	z := Zone{Level: ZoneLevel(level), Code: code}
	if _, ok := zoneRank[z.Level]; !ok {
		return Zone{}, invalid("zone", "unknown level %q in %q", level, s)
	}
	if (z.Level == LevelNational) != (code == "") {
		return Zone{}, invalid("zone", "%q: national takes no code, other levels need one", s)
	}
	return z, nil
}
