package backup

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNoTool means pg_dump or pg_restore is not installed; the error says
// the command to run where they are.
var ErrNoTool = errors.New("backup: PostgreSQL client tool not found")

// libpqParams are the URL parameters pg_dump and pg_restore understand;
// the others (pgx's pool_max_conns...) are left out of their URL.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "passfile": true,
	"channel_binding": true, "connect_timeout": true, "client_encoding": true, "options": true,
	"application_name": true, "keepalives": true, "keepalives_idle": true, "keepalives_interval": true,
	"keepalives_count": true, "tcp_user_timeout": true, "gssencmode": true, "sslmode": true,
	"sslcert": true, "sslkey": true, "sslpassword": true, "sslrootcert": true, "sslcrl": true,
	"sslcrldir": true, "sslsni": true, "requirepeer": true, "ssl_min_protocol_version": true,
	"ssl_max_protocol_version": true, "krbsrvname": true, "gsslib": true, "service": true,
	"target_session_attrs": true, "load_balance_hosts": true,
}

// pgTarget is a Réso database URL as the PostgreSQL tools take it: the URL
// without its password (which goes in PGPASSWORD, not on a command line
// others can read) nor pgx's own parameters, and the schema Réso's tables
// live in (the URL's search_path, public by default).
type pgTarget struct {
	url, password, schema string
}

func parseTarget(raw string) (pgTarget, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return pgTarget{}, fmt.Errorf("backup: not a postgres:// URL")
	}
	t := pgTarget{schema: "public"}
	if u.User != nil {
		t.password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if sp := q.Get("search_path"); sp != "" {
		if strings.Contains(sp, ",") {
			return pgTarget{}, fmt.Errorf("backup: search_path %q names several schemas; give Réso's alone", sp)
		}
		t.schema = strings.TrimSpace(sp)
	}
	for k := range q {
		if !libpqParams[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	t.url = u.String()
	return t, nil
}

// env is the environment of a tool run for t.
func (t pgTarget) env() []string {
	env := os.Environ()
	if t.password != "" {
		env = append(env, "PGPASSWORD="+t.password)
	}
	return env
}

// DumpCommand returns the pg_dump command that backs up the Réso store at
// dbURL to file: the custom format (compressed, restored by pg_restore),
// Réso's schema only (the log, read models, keys, credentials and
// idempotency records), in one consistent snapshot. A password in dbURL is
// left out: pass it in PGPASSWORD. It returns an error for a URL that is not
// postgres://.
func DumpCommand(dbURL, file string) ([]string, error) {
	t, err := parseTarget(dbURL)
	if err != nil {
		return nil, err
	}
	return t.dumpArgs(file), nil
}

func (t pgTarget) dumpArgs(file string) []string {
	return []string{"pg_dump", "--format=custom", "--schema=" + t.schema, "--file=" + file, "--dbname=" + t.url}
}

// Postgres backs the store at dbURL up to file with pg_dump. The dump goes
// to a temporary file beside file, renamed once pg_dump succeeds. It returns
// ErrExists when file exists, an error wrapping ErrNoTool (saying the
// command) when pg_dump is not installed, and pg_dump's error with its
// output.
func Postgres(ctx context.Context, dbURL, file string) (int64, error) {
	t, err := parseTarget(dbURL)
	if err != nil {
		return 0, err
	}
	if _, err := os.Stat(file); err == nil {
		return 0, fmt.Errorf("%w: %s", ErrExists, file)
	}
	tmp := fmt.Sprintf("%s.tmp-%d", file, os.Getpid())
	defer os.Remove(tmp)
	args := t.dumpArgs(tmp)
	if _, err := run(ctx, t, args); err != nil {
		return 0, err
	}
	size, err := syncFile(tmp)
	if err != nil {
		return 0, err
	}
	if err := os.Link(tmp, file); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return size, syncDir(filepath.Dir(file))
}

// run runs a PostgreSQL tool and returns its standard output.
func run(ctx context.Context, t pgTarget, args []string) ([]byte, error) {
	path, err := exec.LookPath(args[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not installed; run where it is:\n  %s", ErrNoTool, args[0], strings.Join(quote(args), " "))
	}
	cmd := exec.CommandContext(ctx, path, args[1:]...)
	cmd.Env = t.env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("backup: %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func quote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " &?;$'\"") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}

// tocEntry matches a line of pg_restore --list: "id; oid oid TYPE schema name owner".
var tocEntry = regexp.MustCompile(`^\d+; \d+ \d+ (.+)$`)

// restoreList reads the dump's table of contents and returns the schema its
// tables belong to, and the list to restore: without the statements that
// create (and comment) the schema when the target already has it, as
// public always has.
func restoreList(ctx context.Context, t pgTarget, file string, schemaExists bool) (schema string, list []byte, err error) {
	toc, err := run(ctx, t, []string{"pg_restore", "--list", file})
	if err != nil {
		return "", nil, err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(toc))
	for sc.Scan() {
		line := sc.Text()
		if m := tocEntry.FindStringSubmatch(line); m != nil {
			f := strings.Fields(m[1])
			switch {
			case len(f) >= 3 && f[0] == "TABLE" && f[1] != "DATA" && f[2] == "events":
				schema = f[1]
			case schemaExists && len(f) >= 2 && f[0] == "SCHEMA" && f[1] == "-":
				line = ";" + line
			case schemaExists && len(f) >= 3 && f[0] == "COMMENT" && f[1] == "-" && f[2] == "SCHEMA":
				line = ";" + line
			}
		}
		out.WriteString(line + "\n")
	}
	if schema == "" {
		return "", nil, fmt.Errorf("%w: %s holds no events table", ErrNoData, file)
	}
	return schema, out.Bytes(), nil
}

// restoreDump runs pg_restore of file into the database at dbURL (t is
// its parsed form). The target must have no events table in t's schema
// unless force is set (the objects of the dump are then dropped first). It
// returns ErrExists, ErrNoData (not a Réso dump, or one of another schema),
// an error wrapping ErrNoTool, and pg_restore's error.
func restoreDump(ctx context.Context, dbURL string, t pgTarget, file string, force bool) error {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("restore: connect: %w", err)
	}
	var schemaExists, hasEvents bool
	err = pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),
		to_regclass(quote_ident($1) || '.events') IS NOT NULL`, t.schema).Scan(&schemaExists, &hasEvents)
	pool.Close()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if hasEvents && !force {
		return fmt.Errorf("%w: schema %s already holds a Réso store; stop its servers and restore with --force to replace it", ErrExists, t.schema)
	}
	schema, list, err := restoreList(ctx, t, file, schemaExists)
	if err != nil {
		return err
	}
	if schema != t.schema {
		return fmt.Errorf("%w: %s is a backup of schema %s, and the URL names schema %s: restore into a URL with search_path=%s", ErrNoData, file, schema, t.schema, schema)
	}
	lf, err := os.CreateTemp("", "reso-restore-*.list")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(lf.Name())
	if _, err := lf.Write(list); err != nil {
		lf.Close()
		return fmt.Errorf("restore: %w", err)
	}
	if err := lf.Close(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	args := []string{"pg_restore", "--dbname=" + t.url, "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error", "--use-list=" + lf.Name()}
	if force {
		args = append(args, "--clean", "--if-exists")
	}
	_, err = run(ctx, t, append(args, file))
	return err
}
