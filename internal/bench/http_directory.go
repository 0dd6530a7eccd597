package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// keptDirectory returns the directory an earlier run on a kept log left
// for this many clients, or seeds one with seed and keeps it for the next
// runs. Each run used to add its own four organisations, so the statistics
// by organisation answered 4 more rows a run: after twenty runs a log's
// answers were no longer those of a fresh log of another size, and
// comparing them measured how often a log had been reused. The directory's
// tokens are kept in clear in a table of the bench's schema: bench data
// only, as the master key is (benchMaster).
func keptDirectory(ctx context.Context, dsn string, clients int, seed func() (*httpDirectory, error)) (*httpDirectory, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_directory (clients int PRIMARY KEY, directory text NOT NULL)`); err != nil {
		return nil, fmt.Errorf("bench directory: %w", err)
	}
	var enc string
	err = conn.QueryRow(ctx, `SELECT directory FROM bench_directory WHERE clients = $1`, clients).Scan(&enc)
	switch {
	case err == nil:
		var j jsonDirectory
		if err := json.Unmarshal([]byte(enc), &j); err != nil {
			return nil, fmt.Errorf("bench directory: %w", err)
		}
		return j.directory(), nil
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("bench directory: %w", err)
	}
	d, err := seed()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(d.toJSON())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO bench_directory VALUES ($1, $2)`, clients, string(b)); err != nil {
		return nil, fmt.Errorf("bench directory: %w", err)
	}
	return d, nil
}
