package bench

import (
	"context"
	"time"

	"github.com/reso-fr/reso/internal/pgschema"
)

// TempSchema creates a schema named bench_<random> and returns a DSN whose
// connections use it, and a drop function that removes it (a no-op when
// keep is set). It returns the connection or creation error.
func TempSchema(ctx context.Context, dsn string, keep bool) (schemaDSN, schema string, drop func() error, err error) {
	schema, err = pgschema.Create(ctx, dsn, "bench_")
	if err != nil {
		return "", "", nil, err
	}
	drop = func() error {
		if keep {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return pgschema.Drop(ctx, dsn, schema)
	}
	return pgschema.WithParam(dsn, "search_path", schema), schema, drop, nil
}
