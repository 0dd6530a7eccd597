package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reso-fr/reso/eventstore/sqlite"
)

// FileName is the embedded store's file in a data directory.
const FileName = "reso.db"

// ErrExists means the destination already holds data: Backup never
// overwrites a file, Restore replaces a store only when forced.
var ErrExists = errors.New("backup: destination exists")

// ErrNoData means the source holds no Réso store.
var ErrNoData = errors.New("backup: no Réso store there")

// SQLite writes an online, consistent copy of the SQLite file src to dest
// with VACUUM INTO, which reads one snapshot while writers go on. The copy
// goes to a temporary file beside dest, is synced, then renamed, so that
// dest is either absent or complete. It returns ErrExists when dest exists,
// ErrNoData when src does not, and the driver's error.
func SQLite(ctx context.Context, src, dest string) (int64, error) {
	if _, err := os.Stat(src); err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrNoData, src, err)
	}
	if _, err := os.Stat(dest); err == nil {
		return 0, fmt.Errorf("%w: %s", ErrExists, dest)
	}
	db, err := sqlite.OpenDB(src)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return vacuumInto(ctx, db.SQL(), dest)
}

// vacuumInto copies db to dest through a synced temporary file.
func vacuumInto(ctx context.Context, db *sql.DB, dest string) (int64, error) {
	tmp := fmt.Sprintf("%s.tmp-%d", dest, time.Now().UnixNano())
	defer os.Remove(tmp)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return 0, fmt.Errorf("backup: vacuum into %s: %w", tmp, err)
	}
	size, err := syncFile(tmp)
	if err != nil {
		return 0, err
	}
	// A link fails, unlike a rename, when dest appeared meanwhile.
	if err := os.Link(tmp, dest); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return size, syncDir(filepath.Dir(dest))
}

func syncFile(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("backup: sync %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return st.Size(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("backup: sync %s: %w", dir, err)
	}
	return nil
}

// RestoreSQLite installs the backup file src as the store of dataDir, whose
// server must be stopped. The file is copied beside the store, checked
// (SQLite's integrity check, and a log table), then renamed into place.
// When dataDir already holds a store, it returns ErrExists unless force is
// set; the store replaced is then kept, renamed with a ".replaced-TIME"
// suffix (its WAL with it), and its path returned. It returns ErrNoData when
// src is not a Réso backup.
func RestoreSQLite(ctx context.Context, src, dataDir string, force bool) (replaced string, err error) {
	target := filepath.Join(dataDir, FileName)
	_, statErr := os.Stat(target)
	if statErr == nil && !force {
		return "", fmt.Errorf("%w: %s holds a store; stop its server and restore with --force (the current file is kept beside)", ErrExists, target)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	in, err := openReadOnly(src)
	if err != nil {
		return "", err
	}
	if err := checkSQLite(ctx, in, src); err != nil {
		in.Close()
		return "", err
	}
	tmp := fmt.Sprintf("%s.restoring-%d", target, time.Now().UnixNano())
	defer os.Remove(tmp)
	_, err = vacuumInto(ctx, in, tmp+".copy")
	in.Close()
	defer os.Remove(tmp + ".copy")
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp+".copy", tmp); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	if statErr == nil {
		replaced = fmt.Sprintf("%s.replaced-%s", target, time.Now().UTC().Format("20060102T150405Z"))
		// The WAL and shared memory go with their file: left behind, they
		// would be applied to the restored one.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(target+suffix, replaced+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("restore: set the current store aside: %w", err)
			}
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return replaced, fmt.Errorf("restore: %w", err)
	}
	return replaced, syncDir(dataDir)
}

// openReadOnly opens the SQLite file at path without writing to it (a
// backup file stays as it was).
func openReadOnly(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoData, err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoData, path, err)
	}
	return db, nil
}

// checkSQLite refuses a file that is not a sound Réso store.
func checkSQLite(ctx context.Context, db *sql.DB, path string) error {
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNoData, path, err)
	}
	if !strings.EqualFold(res, "ok") {
		return fmt.Errorf("%w: %s fails SQLite's check: %s", ErrNoData, path, res)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'eventstore_events'`).Scan(&n); err != nil || n != 1 {
		return fmt.Errorf("%w: %s holds no event log", ErrNoData, path)
	}
	return nil
}
