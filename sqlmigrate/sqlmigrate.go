// Package sqlmigrate is how Réso creates and changes tables: numbered SQL
// files (0001_name.sql) embedded by the package that owns the tables, one
// set per component, applied through one runner per dialect (SQLite,
// PostgreSQL) and recorded in a table per set. Nothing else creates a
// table, except the projections engine for read-model tables, which it
// versions and rebuilds instead (docs/projections.md).
package sqlmigrate

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// Migration is one SQL file; its version is the number that starts its name
// (0001_events.sql is version 1).
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the *.sql files at the root of fsys in version order. It
// returns an error for a name that does not start with a positive number
// and "_", or for two files with the same version.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []Migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", ms[i-1].Name, ms[i].Name, ms[i].Version)
		}
	}
	return ms, nil
}
