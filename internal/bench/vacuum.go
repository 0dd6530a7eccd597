package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// vacuumWithoutAutovacuum runs VACUUM (ANALYZE) on every table of schema
// when the server runs without autovacuum, and returns how long it took (0
// when autovacuum is on: it does this on its own).
//
// The measured phases should meet the tables as a production server keeps
// them. A seed rewrites the statistics cells at each of thousands of live
// batches, and each command phase rewrites them again: without autovacuum
// their dead versions pile up, 400,000 for 18,000 live rows after a seed of
// 1,000,000 needs, and every later query steps over them. The projections'
// own VACUUM after a catch-up from empty comes too early for a seed, which
// they follow live. A log reused by many runs would drift the same way,
// run after run. The project machine's PostgreSQL has autovacuum off.
func vacuumWithoutAutovacuum(ctx context.Context, dsn, schema string) (time.Duration, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var av string
	if err := conn.QueryRow(ctx, `SHOW autovacuum`).Scan(&av); err != nil {
		return 0, fmt.Errorf("show autovacuum: %w", err)
	}
	if av == "on" {
		return 0, nil
	}
	start := time.Now()
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, schema)
	if err != nil {
		return 0, fmt.Errorf("list tables of %s: %w", schema, err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("list tables of %s: %w", schema, err)
	}
	for _, t := range tables {
		if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) "+pgx.Identifier{schema, t}.Sanitize()); err != nil {
			return 0, fmt.Errorf("vacuum %s.%s: %w", schema, t, err)
		}
	}
	return time.Since(start), nil
}
