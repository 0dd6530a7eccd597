package projections_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/reso-fr/reso/internal/simulate"
	"github.com/reso-fr/reso/projections/needs"
	pt "github.com/reso-fr/reso/projections/projectionstest"
	"github.com/reso-fr/reso/projections/readmodels"
)

// On SQLite, where an index cannot be renamed, a rebuild builds its
// indexes before the swap under the set of names the live tables do not
// use; the sets take turns, the replaced tables are dropped after the swap
// (or by Migrate, when a process died first), and Migrate does not add the
// other set beside the one in use.
func TestSQLiteRebuildAlternatesIndexNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := pt.MustSQLite(t)
	pt.MustSimulate(t, b.Store, simulate.Options{Seed: 3, Months: 2, NeedsPerMonth: 30, Writers: 2})
	e := pt.MustEngine(t, b, readmodels.Options{})
	first := mustSQLiteIndexes(t, b.DB)
	if len(first) == 0 {
		t.Fatal("Migrate created no index")
	}
	second := make([]string, len(first))
	for i, n := range first {
		second[i] = n + "_b"
	}
	slices.Sort(second)
	for i, want := range [][]string{second, first, second} {
		if err := e.RebuildAll(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if got := mustSQLiteIndexes(t, b.DB); !slices.Equal(got, want) {
			t.Fatalf("after rebuild %d, indexes %v, want %v", i+1, got, want)
		}
		if left := mustSQLiteTables(t, b.DB, "_old", "_rebuild"); len(left) > 0 {
			t.Fatalf("after rebuild %d, tables left: %v", i+1, left)
		}
	}
	// A process that died between a swap and the drop of the replaced
	// tables left one behind, holding the other set of names.
	if _, err := b.DB.ExecContext(ctx, `CREATE TABLE matches_old (need_id TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DB.ExecContext(ctx, `CREATE INDEX ix_matches_inbox ON matches_old (need_id)`); err != nil {
		t.Fatal(err)
	}
	if err := pt.MustEngine(t, b, readmodels.Options{}).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := mustSQLiteIndexes(t, b.DB); !slices.Equal(got, second) {
		t.Fatalf("after Migrate, indexes %v, want %v", got, second)
	}
	if left := mustSQLiteTables(t, b.DB, "_old"); len(left) > 0 {
		t.Fatalf("after Migrate, tables left: %v", left)
	}
	if err := e.RebuildAll(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := mustSQLiteIndexes(t, b.DB); !slices.Equal(got, first) {
		t.Fatalf("after a rebuild following a leftover, indexes %v, want %v", got, first)
	}
	// The rebuilt tables answer through their indexes.
	page, err := e.ListNeeds(ctx, needs.NeedFilter{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) == 0 {
		t.Fatal("no need listed after the rebuilds")
	}
}

// mustSQLiteIndexes returns the names of the secondary indexes of the read
// models, sorted.
func mustSQLiteIndexes(t *testing.T, db *sql.DB) []string {
	t.Helper()
	names := mustSQLiteNames(t, db, `SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix\_%' ESCAPE '\'`)
	slices.Sort(names)
	return names
}

// mustSQLiteTables returns the tables whose name ends with one of suffixes.
func mustSQLiteTables(t *testing.T, db *sql.DB, suffixes ...string) []string {
	t.Helper()
	var out []string
	for _, n := range mustSQLiteNames(t, db, `SELECT name FROM sqlite_master WHERE type = 'table'`) {
		for _, s := range suffixes {
			if strings.HasSuffix(n, s) {
				out = append(out, n)
			}
		}
	}
	return out
}

func mustSQLiteNames(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
