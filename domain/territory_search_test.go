package domain

import (
	"testing"
)

func TestFoldName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Saint-André-lez-Lille": "saint andre lez lille",
		"L'Haÿ-les-Roses":       "l hay les roses",
		"  ŒUVRE  d'Été ":       "oeuvre d ete",
		"Lille":                 "lille",
	} {
		if got := FoldName(in); got != want {
			t.Errorf("FoldName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommunesByPostalCode(t *testing.T) {
	t.Parallel()
	g := DefaultGeography()
	got := g.CommunesByPostalCode("59350")
	if len(got) != 1 || got[0].Code != "59527" {
		t.Fatalf("59350 serves %+v, want Saint-André-lez-Lille (59527)", got)
	}
	lille := g.CommunesByPostalCode("59000")
	if len(lille) != 1 || lille[0].Code != "59350" {
		t.Fatalf("59000 serves %+v, want Lille (59350)", lille)
	}
	if len(g.CommunesByPostalCode("59999")) != 0 {
		t.Fatal("an unknown postal code serves communes")
	}
	// One postal code, several communes.
	if n := len(g.CommunesByPostalCode("59780")); n < 2 {
		t.Fatalf("59780 serves %d communes, want several", n)
	}
}

func TestSearchCommunes(t *testing.T) {
	t.Parallel()
	g := DefaultGeography()
	first := func(q string) string {
		r := g.SearchCommunes(q, 20)
		if len(r) == 0 {
			return ""
		}
		return r[0].Code
	}
	for _, c := range []struct{ q, want string }{
		{"59350", "59350"},                 // an INSEE code first, before the postal code it also is
		{"59000", "59350"},                 // a postal code
		{"saint andre lez lille", "59527"}, // accents and hyphens ignored
		{"SAINT-ANDRÉ-LEZ-LILLE", "59527"}, // case ignored
		{"lille", "59350"},                 // the exact name before Lille's neighbours
		{"villeneuve d'ascq", "59009"},
		{"2A004", "2A004"}, // Ajaccio, a Corsican code
		{"2a004", "2A004"},
	} {
		if got := first(c.q); got != c.want {
			t.Errorf("first of %q = %s, want %s", c.q, got, c.want)
		}
	}
	r := g.SearchCommunes("59350", 20)
	if len(r) < 2 || r[1].Code != "59527" {
		t.Errorf("59350 also finds the communes of postal code 59350: %+v", r)
	}
	if n := len(g.SearchCommunes("saint", 20)); n != 20 {
		t.Errorf("a common word gives %d results, want the limit 20", n)
	}
	if len(g.SearchCommunes("   ", 20)) != 0 || len(g.SearchCommunes("zzzzqqq", 20)) != 0 {
		t.Error("empty or unknown queries find communes")
	}
	// Word starts match: "andre" finds Saint-André-lez-Lille.
	found := false
	for _, c := range g.SearchCommunes("andre lez", 20) {
		found = found || c.Code == "59527"
	}
	if !found {
		t.Error("a word inside the name is not found")
	}
}
