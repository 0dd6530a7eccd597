package sqlite

import (
	"database/sql"
	"fmt"
	"net/url"
	"runtime"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/reso-fr/reso/sqldb"
)

// busyTimeoutMillis is how long SQLite itself waits for another writer's
// lock before answering SQLITE_BUSY; Append retries beyond it.
const busyTimeoutMillis = 5000

// walAutocheckpointPages is the WAL size, in pages, past which a commit
// checkpoints by itself.
const walAutocheckpointPages = 10000

// DB is the embedded database: one SQLite file, its pool of connections,
// and the gate its writers in this process take in turn (see gate.go). The
// event store, the read models, the contact keys, the credentials and the
// idempotency records all write through it, and only through it: Exec,
// WriteTx, Relay, and the store's own writer. It implements sqldb.DB and
// sqldb.Relayer, and is safe for concurrent use.
type DB struct {
	db   *sql.DB
	gate sync.Mutex
}

var (
	_ sqldb.DB      = (*DB)(nil)
	_ sqldb.Relayer = (*DB)(nil)
)

// SQL is the connection pool, for reads.
func (d *DB) SQL() *sql.DB { return d.db }

// Dialect is sqldb.SQLite.
func (d *DB) Dialect() sqldb.Dialect { return sqldb.SQLite }

// Close closes the pool. It returns the driver's error.
func (d *DB) Close() error { return d.db.Close() }

// OpenDB opens (creating if needed) the SQLite file at path, configured for
// Réso: WAL journal (readers never block the writer nor each other),
// busy_timeout, foreign keys, and BEGIN IMMEDIATE for read-write
// transactions, so a transaction takes the write lock when it starts rather
// than failing to upgrade a read lock halfway.
//
// synchronous=NORMAL: in WAL mode a commit then appends to the WAL without
// an fsync; the WAL is synced at checkpoints. The database is never
// corrupted and a committed transaction survives a crash of the process;
// only a power loss or an OS crash may lose the transactions committed since
// the last checkpoint. FULL would fsync on every commit, which caps one
// writer at a few hundred appends a second on ordinary disks; an embedded
// single-node deployment takes that trade, a production one runs on
// PostgreSQL.
//
// The pool keeps several connections so that read models and subscriptions
// read in parallel with the one writer; it never closes idle connections, to
// keep their prepared statements and page cache. The DB is shared with
// other packages (read models, keys... in the same file), which write
// through it. path must name a file: ":memory:" would give every
// connection its own database.
//
// It returns the driver's error when the file cannot be opened or configured.
func OpenDB(path string) (*DB, error) {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "cache_size(-16000)") // 16 MB per connection
	// The store checkpoints in the background (see checkpointer); commits
	// checkpoint themselves only past this many WAL pages (40 MB).
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutocheckpointPages))
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	conns := max(4, 2*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	// Opening is lazy: ping so that a bad path fails here, not on first use.
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{db: db}, nil
}
