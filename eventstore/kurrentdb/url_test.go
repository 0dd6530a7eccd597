package kurrentdb

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		address  string
		seeds    []string
		discover bool
		noTLS    bool
		user     string
	}{
		{"single node insecure", "kurrentdb://localhost:2113?tls=false", "localhost:2113", nil, false, true, ""},
		{"default port", "kurrentdb://kurrent?tls=false", "kurrent:2113", nil, false, true, ""},
		{"tls by default", "kurrentdb://db.example.fr:2113", "db.example.fr:2113", nil, false, false, ""},
		{"upper-case scheme", "KurrentDB://localhost:2113?tls=false", "localhost:2113", nil, false, true, ""},
		{"credentials", "kurrentdb://admin:changeit@localhost:2113", "localhost:2113", nil, false, false, "admin"},
		{"dns discovery", "kurrentdb+discover://cluster.example.fr:2113", "cluster.example.fr:2113", nil, true, false, ""},
		{"gossip seeds", "kurrentdb://n1:2113,n2:2113,n3:2113?tls=false",
			"", []string{"n1:2113", "n2:2113", "n3:2113"}, false, true, ""},
		{"legacy esdb", "esdb://localhost:2113?tls=false", "localhost:2113", nil, false, true, ""},
		{"legacy esdb discover", "esdb+discover://cluster:2113", "cluster:2113", nil, true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conf, err := parseURL(tt.url)
			if err != nil {
				t.Fatalf("parseURL(%q): %v", tt.url, err)
			}
			if conf.Address != tt.address {
				t.Errorf("address %q, want %q", conf.Address, tt.address)
			}
			var seeds []string
			for _, s := range conf.GossipSeeds {
				seeds = append(seeds, s.String())
			}
			if strings.Join(seeds, ",") != strings.Join(tt.seeds, ",") {
				t.Errorf("seeds %v, want %v", seeds, tt.seeds)
			}
			if conf.DnsDiscover != tt.discover || conf.DisableTLS != tt.noTLS || conf.Username != tt.user {
				t.Errorf("discover %v tls-off %v user %q; want %v %v %q", conf.DnsDiscover, conf.DisableTLS, conf.Username, tt.discover, tt.noTLS, tt.user)
			}
		})
	}
}

func TestParseURLRefuses(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"",
		"localhost:2113",
		"postgres://postgres@127.0.0.1:5432/test",
		"sqlite:///var/lib/reso.db",
		"kurrentdb://",
		"kurrentdb://localhost:notaport",
		"kurrentdb://localhost:2113/some/path",
		"kurrentdb://:secret@localhost:2113",
	} {
		conf, err := parseURL(url)
		if !errors.Is(err, ErrInvalidURL) {
			t.Errorf("parseURL(%q) = %+v, %v; want ErrInvalidURL", url, conf, err)
		}
	}
}

func TestIsURL(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]bool{
		"kurrentdb://h:2113":          true,
		"kurrentdb+discover://h:2113": true,
		"esdb://h":                    true,
		"ESDB+DISCOVER://h":           true,
		"postgres://h/db":             false,
		"reso.db":                     false,
		"kdb://h":                     false,
	} {
		if got := IsURL(url); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", url, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"kurrentdb://admin:changeit@localhost:2113?tls=true", "kurrentdb://admin:xxxxx@localhost:2113?tls=true"},
		{"kurrentdb://admin@localhost:2113", "kurrentdb://admin@localhost:2113"},
		{"kurrentdb://localhost:2113?tls=false", "kurrentdb://localhost:2113?tls=false"},
		{"kurrentdb://ops:p@ss@n1:2113,n2:2113", "kurrentdb://ops:xxxxx@n1:2113,n2:2113"},
		{"not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(redact(tt.in), "changeit") {
			t.Errorf("redact(%q) leaks the password", tt.in)
		}
	}
}

// TestComposeURL keeps deploy/compose.yaml and this adapter in agreement:
// the event-store URL given to the Réso container must parse.
func TestComposeURL(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatalf("read compose file: %v", err)
	}
	var found int
	for line := range strings.Lines(string(b)) {
		_, v, ok := strings.Cut(line, "RESO_EVENTSTORE_URL:")
		if !ok {
			continue
		}
		found++
		url := strings.Trim(strings.TrimSpace(v), `"'`)
		conf, err := parseURL(url)
		if err != nil {
			t.Errorf("compose event-store URL %q: %v", url, err)
			continue
		}
		if conf.Address != "kurrentdb:2113" || !conf.DisableTLS {
			t.Errorf("compose URL %q: address %q, tls off %v; want the kurrentdb service, insecure", url, conf.Address, conf.DisableTLS)
		}
	}
	if found != 1 {
		t.Errorf("compose file sets RESO_EVENTSTORE_URL %d times, want once", found)
	}
}
