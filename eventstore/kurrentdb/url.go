package kurrentdb

import (
	"errors"
	"fmt"
	"strings"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"
)

// ErrInvalidURL means the event-store URL is not a KurrentDB connection
// string this adapter accepts.
var ErrInvalidURL = errors.New("kurrentdb: invalid connection url")

// schemes are the URL schemes Réso routes to this adapter; the client
// library accepts a few more aliases (kdb, kurrent) that Réso does not
// advertise.
var schemes = []string{"kurrentdb", "kurrentdb+discover", "esdb", "esdb+discover"}

// IsURL reports whether rawURL names a KurrentDB server, so that a command
// can choose the adapter from --eventstore-url alone.
func IsURL(rawURL string) bool {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return false
	}
	for _, s := range schemes {
		if strings.EqualFold(scheme, s) {
			return true
		}
	}
	return false
}

// parseURL turns a connection URL into the client's configuration. The
// client library parses the connection string itself (hosts, cluster seeds,
// tls, node preference, deadlines); this checks the scheme first so that a
// PostgreSQL or SQLite URL given by mistake gets a clear error, and lowers
// the scheme, which the client compares case-sensitively.
func parseURL(rawURL string) (*kdb.Configuration, error) {
	if !IsURL(rawURL) {
		return nil, fmt.Errorf("%w: %q: want kurrentdb://host:2113?tls=false, kurrentdb+discover://host:2113 or esdb://…", ErrInvalidURL, redact(rawURL))
	}
	scheme, rest, _ := strings.Cut(rawURL, "://")
	conf, err := kdb.ParseConnectionString(strings.ToLower(scheme) + "://" + rest)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalidURL, redact(rawURL), err)
	}
	return conf, nil
}

// redact hides the password of a URL for logs and errors. A cluster URL
// with several hosts does not parse as a URL; its user info is cut by hand.
func redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	at := strings.LastIndex(rest, "@")
	slash := strings.IndexAny(rest, "/?")
	if at < 0 || (slash >= 0 && at > slash) {
		return rawURL
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		return rawURL
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
