package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/reso-fr/reso/sqldb"
)

// idColumns are the columns typed {U}, by table.
var idColumns = map[string][]string{
	"needs":       {"id", "advisor_id"},
	"matches":     {"need_id", "referent_id", "organisation_id"},
	"stats_needs": {"id"},
}

// upgradeIDColumns gives, on PostgreSQL, the UUID type to the id columns
// that tables created by earlier versions hold as TEXT, one rewrite per
// table: the projections write those ids as 16 bytes (Dialect.idArg),
// which a TEXT column would not take. It returns the database error.
func upgradeIDColumns(ctx context.Context, db *sql.DB, d sqldb.Dialect) error {
	if d != sqldb.Postgres {
		return nil
	}
	for _, table := range []string{"needs", "matches", "stats_needs"} {
		var alters []string
		for _, col := range idColumns[table] {
			typ, err := columnType(ctx, db, d, table, col)
			if err != nil {
				return fmt.Errorf("upgrade %s: %w", table, err)
			}
			if typ == "text" {
				alters = append(alters, fmt.Sprintf("ALTER COLUMN %s TYPE UUID USING %s::uuid", col, col))
			}
		}
		if len(alters) == 0 {
			continue
		}
		if _, err := db.ExecContext(ctx, "ALTER TABLE "+table+" "+strings.Join(alters, ", ")); err != nil {
			return fmt.Errorf("upgrade %s: %w", table, err)
		}
	}
	return nil
}

// columnType returns the type of table.column as the database names it
// (PostgreSQL's information_schema data_type, SQLite's declared type), or
// "" when the table or the column does not exist: Migrate's upgrades look
// before they touch, rather than run a statement that fails (and leaves
// an ERROR in the server's log at every start).
func columnType(ctx context.Context, db *sql.DB, d sqldb.Dialect, table, column string) (string, error) {
	q := `SELECT data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`
	if d == sqldb.SQLite {
		q = `SELECT type FROM pragma_table_info($1) WHERE name = $2`
	}
	var typ string
	err := db.QueryRowContext(ctx, q, table, column).Scan(&typ)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up %s.%s: %w", table, column, err)
	}
	return typ, nil
}

// upgradeNeedsLayout drops the state column that needs had before its
// columns and matches were read back instead (the rows are otherwise the
// same, so the projection goes on from its checkpoint). It returns the
// database error.
func upgradeNeedsLayout(ctx context.Context, db *sql.DB, d sqldb.Dialect) error {
	if typ, err := columnType(ctx, db, d, "needs", "state"); err != nil || typ == "" {
		return err // no such column (or table): nothing to upgrade
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE needs DROP COLUMN state`); err != nil {
		return fmt.Errorf("upgrade needs table: %w", err)
	}
	return nil
}

// upgradeStatsLayout drops the statistics tables of the earlier layout
// (histograms as rows of stats_hours) and sends the stats projection back
// to the start of the log, so that its runner refolds every need into the
// new layout. It returns the database error.
func upgradeStatsLayout(ctx context.Context, db *sql.DB, d sqldb.Dialect) error {
	if typ, err := columnType(ctx, db, d, "stats_hours", "month"); err != nil || typ == "" {
		return err // no such table: nothing to upgrade
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("upgrade statistics tables: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, t := range []string{"stats_needs", "stats_cells", "stats_hours"} {
		for _, name := range []string{t, t + rebuildSuffix} {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+name); err != nil {
				return fmt.Errorf("upgrade statistics tables: drop %s: %w", name, err)
			}
		}
	}
	// The checkpoint table exists wherever stats_hours did.
	if _, err := tx.ExecContext(ctx,
		`UPDATE projection_checkpoints SET position='', generation=generation+1 WHERE name=$1`, "stats"); err != nil {
		return fmt.Errorf("upgrade statistics tables: reset checkpoint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("upgrade statistics tables: %w", err)
	}
	return nil
}

// upgradeStatsState turns, on PostgreSQL, the TEXT state column of
// stats_needs of earlier versions (JSON) into BYTEA: the JSON stays, and
// reads back beside the binary states written from now on. SQLite stores
// either in its column as it is. It returns the database error.
func upgradeStatsState(ctx context.Context, db *sql.DB, d sqldb.Dialect) error {
	if d != sqldb.Postgres {
		return nil
	}
	typ, err := columnType(ctx, db, d, "stats_needs", "state")
	if err != nil {
		return fmt.Errorf("upgrade stats_needs: %w", err)
	}
	if typ != "text" {
		return nil
	}
	if _, err := db.ExecContext(ctx,
		`ALTER TABLE stats_needs ALTER COLUMN state TYPE BYTEA USING convert_to(state, 'UTF8')`); err != nil {
		return fmt.Errorf("upgrade stats_needs: %w", err)
	}
	return nil
}
