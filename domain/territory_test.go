package domain

import (
	"encoding/csv"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDefaultGeographyParses(t *testing.T) {
	t.Parallel()
	if err := defaultGeographyErr(); err != nil {
		t.Fatalf("embedded geography: %v", err)
	}
	g := DefaultGeography()
	if g != DefaultGeography() {
		t.Fatal("DefaultGeography parsed twice")
	}
	if n := len(g.Communes()); n != 34969 {
		t.Fatalf("%d communes, want 34969", n)
	}
	if n := len(g.Departements()); n != 109 {
		t.Fatalf("%d départements, want 109", n)
	}
	if n := len(g.Regions()); n != 26 {
		t.Fatalf("%d régions, want 26", n)
	}
	if n := len(g.EPCIs()); n != 1255 {
		t.Fatalf("%d EPCI, want 1255", n)
	}
}

// TestGeographyMatchesEncodingCSV compares the hand-written parser with the
// standard library's CSV reader on the embedded data, commune by commune.
func TestGeographyMatchesEncodingCSV(t *testing.T) {
	t.Parallel()
	g := DefaultGeography()
	r := csv.NewReader(strings.NewReader(communesCSV))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recs = recs[1:]
	if len(recs) != len(g.Communes()) {
		t.Fatalf("%d records, %d communes", len(recs), len(g.Communes()))
	}
	noEPCI := 0
	for _, rec := range recs {
		c, ok := g.Commune(rec[0])
		if !ok {
			t.Fatalf("commune %s missing", rec[0])
		}
		pop := 0
		if rec[6] != "" {
			pop, _ = strconv.Atoi(rec[6])
		}
		postal := strings.Fields(rec[7])
		if len(postal) == 0 {
			postal = nil
		}
		want := Commune{Code: rec[0], Name: rec[1], Departement: rec[2], Region: rec[3], EPCI: rec[4], EPCIName: rec[5], Population: pop, PostalCodes: postal}
		if c.Code != want.Code || c.Name != want.Name || c.Departement != want.Departement || c.Region != want.Region ||
			c.EPCI != want.EPCI || c.EPCIName != want.EPCIName || c.Population != want.Population || !slices.Equal(c.PostalCodes, want.PostalCodes) {
			t.Fatalf("commune %s:\n got %+v\nwant %+v", rec[0], c, want)
		}
		if c.EPCI == "" {
			noEPCI++
		}
	}
	if noEPCI != 98 {
		t.Fatalf("%d communes without EPCI, the data's README says 98", noEPCI)
	}
	if c, _ := g.Commune("04005"); c.EPCIName != `CC Alpes-Provence-Verdon "Sources de lumière"` {
		t.Fatalf("quoted EPCI name %q", c.EPCIName)
	}
}

func TestLille(t *testing.T) {
	t.Parallel()
	g := DefaultGeography()
	c, ok := g.Commune("59350")
	if !ok {
		t.Fatal("Lille missing")
	}
	if c.Name != "Lille" || c.EPCI != "200093201" || c.EPCIName != "Métropole Européenne de Lille" || c.Departement != "59" || c.Region != "32" || c.Population < 200000 {
		t.Fatalf("Lille %+v", c)
	}
	if !slices.Contains(c.PostalCodes, "59000") {
		t.Fatalf("postal codes %v", c.PostalCodes)
	}
	if d, _ := g.Departement("59"); d.Name != "Nord" || d.Region != "32" {
		t.Fatalf("Nord %+v", d)
	}
	if r, _ := g.Region("32"); r.Name != "Hauts-de-France" {
		t.Fatalf("région 32 %+v", r)
	}
	if e, _ := g.EPCI("200093201"); e.Name != "Métropole Européenne de Lille" {
		t.Fatalf("EPCI %+v", e)
	}
	for _, tc := range []struct {
		zone Zone
		want bool
	}{
		{Zone{LevelCommune, "59350"}, true},
		{Zone{LevelEPCI, "200093201"}, true},
		{Zone{LevelDepartement, "59"}, true},
		{Zone{LevelRegion, "32"}, true},
		{National, true},
		{Zone{LevelCommune, "59512"}, false},  // Roubaix
		{Zone{LevelEPCI, "200054781"}, false}, // Métropole du Grand Paris
		{Zone{LevelDepartement, "62"}, false}, // Pas-de-Calais
		{Zone{LevelRegion, "11"}, false},      // Île-de-France
		{Zone{LevelEPCI, ""}, false},          // no EPCI is not an EPCI
		{Zone{"canton", "59350"}, false},      // unknown level
		{Zone{LevelDepartement, "200093201"}, false},
	} {
		if got := g.Contains(tc.zone, "59350"); got != tc.want {
			t.Errorf("Contains(%v, Lille) = %v, want %v", tc.zone, got, tc.want)
		}
	}
	if g.Contains(National, "00000") {
		t.Error("an unknown commune is in national")
	}
}

func TestCommunesIn(t *testing.T) {
	t.Parallel()
	g := DefaultGeography()
	// Counted independently with encoding/csv.
	recs, err := csv.NewReader(strings.NewReader(communesCSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	count := func(col int, v string) int {
		n := 0
		for _, r := range recs[1:] {
			if r[col] == v {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		zone Zone
		want int
	}{
		{Zone{LevelEPCI, "200093201"}, count(4, "200093201")},
		{Zone{LevelDepartement, "59"}, count(2, "59")},
		{Zone{LevelRegion, "32"}, count(3, "32")},
		{Zone{LevelCommune, "59350"}, 1},
		{National, len(recs) - 1},
		{Zone{LevelCommune, "00000"}, 0},
		{Zone{LevelDepartement, "00"}, 0},
		{Zone{"canton", "1"}, 0},
	} {
		got := g.CommunesIn(tc.zone)
		if len(got) != tc.want || tc.want == 0 && got != nil {
			t.Errorf("CommunesIn(%v): %d communes, want %d", tc.zone, len(got), tc.want)
		}
		if !slices.IsSortedFunc(got, func(a, b Commune) int { return strings.Compare(a.Code, b.Code) }) {
			t.Errorf("CommunesIn(%v) not sorted", tc.zone)
		}
		for _, c := range got {
			if !g.Contains(tc.zone, c.Code) {
				t.Fatalf("CommunesIn(%v) has %s, which it does not contain", tc.zone, c.Code)
			}
		}
	}
	if n := len(g.CommunesIn(Zone{LevelRegion, "32"})); n < 3700 || n > 3900 {
		t.Fatalf("Hauts-de-France has %d communes, about 3,800 expected", n)
	}
}

func TestWithin(t *testing.T) {
	t.Parallel()
	g := DefaultGeography()
	mel := Zone{LevelEPCI, "200093201"}
	grandParis := Zone{LevelEPCI, "200054781"}
	for _, tc := range []struct {
		inner, outer Zone
		want         bool
	}{
		{Zone{LevelCommune, "59350"}, mel, true},
		{mel, Zone{LevelDepartement, "59"}, true},
		{mel, Zone{LevelRegion, "32"}, true},
		{mel, National, true},
		{Zone{LevelDepartement, "59"}, Zone{LevelRegion, "32"}, true},
		{Zone{LevelRegion, "32"}, National, true},
		{Zone{LevelRegion, "32"}, Zone{LevelRegion, "32"}, true},
		{grandParis, Zone{LevelRegion, "11"}, true},
		{grandParis, Zone{LevelDepartement, "75"}, false}, // spans 75, 92, 93, 94
		{Zone{LevelDepartement, "59"}, mel, false},
		{Zone{LevelRegion, "32"}, Zone{LevelDepartement, "59"}, false},
		{National, Zone{LevelRegion, "32"}, false},
		{Zone{LevelDepartement, "75"}, Zone{LevelRegion, "32"}, false},
		{Zone{LevelCommune, "59350"}, Zone{LevelCommune, "59512"}, false},
		{Zone{LevelCommune, "00000"}, National, false},
		{Zone{LevelCommune, "59350"}, Zone{LevelRegion, "99"}, false},
	} {
		if got := g.Within(tc.inner, tc.outer); got != tc.want {
			t.Errorf("Within(%v, %v) = %v, want %v", tc.inner, tc.outer, got, tc.want)
		}
	}
}

func TestValidZoneAndNames(t *testing.T) {
	t.Parallel()
	g := DefaultGeography()
	for _, tc := range []struct {
		zone Zone
		name string // "" when invalid
	}{
		{National, "France"},
		{Zone{LevelRegion, "32"}, "Hauts-de-France"},
		{Zone{LevelDepartement, "2A"}, "Corse-du-Sud"},
		{Zone{LevelEPCI, "200093201"}, "Métropole Européenne de Lille"},
		{Zone{LevelCommune, "2A004"}, "Ajaccio"},
		{Zone{LevelNational, "FR"}, ""},
		{Zone{LevelRegion, "99"}, ""},
		{Zone{LevelDepartement, "20"}, ""},
		{Zone{LevelEPCI, "123"}, ""},
		{Zone{LevelCommune, "59999"}, ""},
		{Zone{"canton", "1"}, ""},
	} {
		err := g.ValidZone(tc.zone)
		if (err == nil) != (tc.name != "") {
			t.Errorf("ValidZone(%v) = %v", tc.zone, err)
		}
		if err != nil && !isField(err, "zone") {
			t.Errorf("ValidZone(%v) error %v is not a zone ValidationError", tc.zone, err)
		}
		if tc.zone.Level != LevelNational || tc.zone.Code == "" {
			if got := g.ZoneName(tc.zone); got != tc.name {
				t.Errorf("ZoneName(%v) = %q, want %q", tc.zone, got, tc.name)
			}
		}
	}
}

func TestParseZone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Zone
		ok   bool
	}{
		{"national", National, true},
		{" departement:59 ", Zone{LevelDepartement, "59"}, true},
		{"epci:200093201", Zone{LevelEPCI, "200093201"}, true},
		{"commune:59350", Zone{LevelCommune, "59350"}, true},
		{"region:32", Zone{LevelRegion, "32"}, true},
		{"national:FR", Zone{}, false},
		{"region", Zone{}, false},
		{"region:", Zone{}, false},
		{"canton:1", Zone{}, false},
		{"", Zone{}, false},
	} {
		got, err := ParseZone(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseZone(%q) = %v, %v", tc.in, got, err)
			continue
		}
		if tc.ok && got.String() != strings.TrimSpace(tc.in) {
			t.Errorf("String() = %q, want %q", got.String(), strings.TrimSpace(tc.in))
		}
	}
	for _, z := range []Zone{{LevelCommune, "1"}, {LevelEPCI, "1"}, {LevelDepartement, "1"}, {LevelRegion, "1"}, National} {
		if z.Rank() < 0 || z.Rank() > 4 {
			t.Errorf("rank of %v: %d", z, z.Rank())
		}
	}
	if (Zone{"canton", "1"}).Rank() != 5 {
		t.Error("unknown level not ranked last")
	}
}

func TestParseGeographyErrors(t *testing.T) {
	t.Parallel()
	const (
		regions = "code_region,nom\n32,Hauts-de-France\r\n"
		deps    = "code_departement,nom,code_region\n59,Nord,32\n"
		head    = "code_insee,nom,code_departement,code_region,code_epci,nom_epci,population,codes_postaux\n"
		lille   = "59350,Lille,59,32,200093201,Métropole Européenne de Lille,238246,59000 59800\n"
	)
	g, err := ParseGeography(strings.NewReader(head+lille+"\n"), strings.NewReader(deps), strings.NewReader(regions))
	if err != nil {
		t.Fatal(err)
	}
	if !g.Contains(Zone{LevelRegion, "32"}, "59350") {
		t.Fatal("small geography lost Lille")
	}
	// Unsorted input is sorted.
	g, err = ParseGeography(strings.NewReader(head+"59512,Roubaix,59,32,200093201,MEL,98000,59100\n"+lille), strings.NewReader(deps), strings.NewReader(regions))
	if err != nil {
		t.Fatal(err)
	}
	if cs := g.Communes(); cs[0].Code != "59350" || !g.Contains(National, "59512") {
		t.Fatalf("unsorted input: %+v", cs)
	}
	for _, tc := range []struct {
		name, communes, deps, regions, msg string
	}{
		{"empty regions", head + lille, deps, "", "regions.csv: empty"},
		{"bad header", "code,nom\n", deps, regions, "communes.csv line 1: 2 fields"},
		{"renamed column", strings.Replace(head, "nom_epci", "epci", 1) + lille, deps, regions, "line 1: header"},
		{"unknown département", head + "62041,Arras,62,32,,,41000,62000\n", deps, regions, "unknown département"},
		{"région mismatch", head + "59350,Lille,59,11,,,1,59000\n", deps, regions, "differs"},
		{"bad population", head + "59350,Lille,59,32,,,lots,59000\n", deps, regions, "population"},
		{"huge population", head + "59350,Lille,59,32,,,1234567890,59000\n", deps, regions, "population"},
		{"duplicate commune", head + lille + lille, deps, regions, "duplicate commune 59350"},
		{"empty name", head + "59350,,59,32,,,1,\n", deps, regions, "empty code or name"},
		{"unterminated quote", head + "59350,\"Lille,59,32,,,1,\n", deps, regions, "unterminated"},
		{"quote in field", head + "59350,Li\"lle,59,32,,,1,\n", deps, regions, "quote inside"},
		{"text after quote", head + "59350,\"Lille\"x,59,32,,,1,\n", deps, regions, "after a quoted field"},
		{"unknown région", head, "code_departement,nom,code_region\n59,Nord,99\n", regions, "unknown région"},
		{"duplicate département", head, deps + "59,Nord,32\n", regions, "duplicate département"},
		{"empty département", head, "code_departement,nom,code_region\n,Nord,32\n", regions, "empty code"},
		{"duplicate région", head, deps, regions + "32,HdF\n", "duplicate région"},
		{"empty région", head, deps, "code_region,nom\n32,\n", "empty code"},
	} {
		_, err := ParseGeography(strings.NewReader(tc.communes), strings.NewReader(tc.deps), strings.NewReader(tc.regions))
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.msg)
		}
	}
	boom := errors.New("disk on fire")
	if _, err := ParseGeography(iotest.ErrReader(boom), strings.NewReader(deps), strings.NewReader(regions)); !errors.Is(err, boom) {
		t.Errorf("read error %v", err)
	}
}

func BenchmarkParseGeography(b *testing.B) {
	for b.Loop() {
		if _, err := parseGeography(communesCSV, departementsCSV, regionsCSV); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkContains(b *testing.B) {
	g := DefaultGeography()
	z := Zone{LevelEPCI, "200093201"}
	for b.Loop() {
		if !g.Contains(z, "59350") {
			b.Fatal("Lille not in the MEL")
		}
	}
}

// TestCommunesInConcurrent builds the lazy index from several goroutines;
// run with -race.
func TestCommunesInConcurrent(t *testing.T) {
	t.Parallel()
	g, err := ParseEmbeddedGeography()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	for range 4 {
		go func() { done <- len(g.CommunesIn(Zone{LevelDepartement, "59"})) }()
	}
	for range 4 {
		if n := <-done; n != len(DefaultGeography().CommunesIn(Zone{LevelDepartement, "59"})) || n == 0 {
			t.Fatalf("%d communes in Nord", n)
		}
	}
}
