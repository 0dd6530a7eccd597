package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/reso-fr/reso/internal/idempotency"
)

// idempotencyHeader names the header of a keyed POST.
const idempotencyHeader = "Idempotency-Key"

// replayedHeaders are the response headers a replay repeats.
var replayedHeaders = []string{"Content-Type", "Location", positionHeader}

const (
	// idemWait bounds how long a repeat waits for the first request with
	// its key to finish.
	idemWait = 10 * time.Second
	// idemStale is when a pending key is presumed dead with its process.
	idemStale = 2 * time.Minute
)

// idemNote lets a handler tell the middleware that its body is a need, so
// that it is stored without the contact.
type idemNote struct{ needID uuid.UUID }

type idemNoteKey struct{}

// noteNeed marks the response of r as the need id.
func noteNeed(ctx context.Context, id uuid.UUID) {
	if n, ok := ctx.Value(idemNoteKey{}).(*idemNote); ok {
		n.needID = id
	}
}

// recorder tees a response to the client and to memory.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// idempotent replays the first response of a POST carrying an
// Idempotency-Key, per principal; the same key with another request is a
// 422. It also enforces the body size limit of every POST.
func (a *api) idempotent(next http.Handler) http.Handler {
	return a.idempotentUpTo(next, MaxBodyBytes)
}

// idempotentUpTo is idempotent with a body limit of limit bytes.
func (a *api) idempotentUpTo(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := readBodyUpTo(w, r, limit)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		key := r.Header.Get(idempotencyHeader)
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 {
			a.fail(w, r, invalidField(idempotencyHeader, "at most 255 characters"))
			return
		}
		a.keyed(w, r, next, key, body)
	})
}

func (a *api) keyed(w http.ResponseWriter, r *http.Request, next http.Handler, key string, body []byte) {
	ctx := r.Context()
	p := principalOf(ctx)
	principal := p.UserID.String()
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
	hash := hex.EncodeToString(sum[:])
	secret := idempotency.SealKey(bearerToken(r), key)
	deadline := time.Now().Add(idemWait)
	waiting := false
	for {
		now := a.d.Now()
		ok, err := a.idem.Reserve(ctx, principal, key, hash, now)
		if err != nil {
			// The INSERT may have committed all the same: forget it, or
			// the repeats would find the key in progress until it went
			// stale.
			a.forget(context.WithoutCancel(ctx), "idempotency reservation", func(ctx context.Context) error {
				return a.idem.ReleaseReservation(ctx, principal, key, hash, now)
			})
			a.fail(w, r, err)
			return
		}
		if ok {
			a.firstRun(w, r, next, principal, key, hash, secret)
			return
		}
		rec, err := a.idem.Get(ctx, principal, key)
		if err != nil {
			// Released between our insert and our read: try again.
			if time.Now().Before(deadline) {
				continue
			}
			a.fail(w, r, err)
			return
		}
		if rec.Done && rec.CreatedAt.Before(a.d.Now().Add(-idempotency.TTL)) {
			// Expired and not yet purged: the key is free again.
			if err := a.idem.Release(ctx, principal, key); err != nil {
				a.fail(w, r, err)
				return
			}
			continue
		}
		if rec.RequestHash != hash {
			a.fail(w, r, invalidField(idempotencyHeader, "this key was used with another request"))
			return
		}
		if rec.Done {
			a.replay(w, r, rec, secret)
			return
		}
		if stale := a.staleBefore(); rec.CreatedAt.Before(stale) {
			if err := a.idem.ReleaseStale(ctx, principal, key, stale); err != nil {
				a.fail(w, r, err)
				return
			}
			continue
		}
		if time.Now().After(deadline) {
			a.fail(w, r, newProblem(http.StatusConflict, "in-progress", "Request in progress",
				"a request with this Idempotency-Key is still running; retry later"))
			return
		}
		if !waiting && a.onKeyBusy != nil {
			a.onKeyBusy()
		}
		waiting = true
		select {
		case <-ctx.Done():
			a.fail(w, r, ctx.Err())
			return
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// staleBefore is the instant before which a pending key is presumed dead
// with its process: idemStale ago, or this process's start. A key pending
// from before the start was left by a process that died between its
// append and storing its answer (or by another replica, which then races
// the repeat); the service recognises what that run did and does not do it
// again (internal/app/idempotency.go), so the repeat may run at once.
func (a *api) staleBefore() time.Time {
	cutoff := a.d.Now().Add(-idemStale)
	if a.started.After(cutoff) {
		return a.started
	}
	return cutoff
}

// firstRun serves the request and keeps its response.
func (a *api) firstRun(w http.ResponseWriter, r *http.Request, next http.Handler, principal, key, hash string, secret []byte) {
	note := &idemNote{}
	rec := &recorder{ResponseWriter: w}
	// The key must be released even when the handler panics.
	stored := false
	bg := context.WithoutCancel(r.Context())
	defer func() {
		if !stored {
			a.release(bg, principal, key)
		}
	}()
	next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), idemNoteKey{}, note)))
	if rec.status >= 500 || rec.status == 0 {
		return
	}
	headers := map[string]string{}
	for _, h := range replayedHeaders {
		if v := w.Header().Get(h); v != "" {
			headers[h] = v
		}
	}
	hj, _ := json.Marshal(headers)
	plain := rec.body.Bytes()
	needID := ""
	if note.needID != uuid.Nil && rec.status < 300 {
		stripped, err := withContact(plain, nil)
		if err != nil {
			a.d.Logger.Error("strip contact from idempotent response", "err", err)
			return
		}
		plain, needID = stripped, note.needID.String()
	}
	sealed, err := idempotency.Seal(secret, plain)
	if err != nil {
		a.d.Logger.Error("seal idempotent response", "err", err)
		return
	}
	err = a.idem.Complete(bg, principal, key, idempotency.Record{RequestHash: hash, Status: rec.status, Headers: string(hj), Body: sealed, NeedID: needID})
	if err != nil {
		a.d.Logger.Error("store idempotent response", "err", err)
		return
	}
	stored = true
}

// release forgets the key of a request that did not complete, so that its
// repeat runs. When the database refuses (it is down), release tries again
// in the background until it succeeds or idemStale has passed: otherwise
// the repeat, once the database is back, would wait for the key to go
// stale.
func (a *api) release(ctx context.Context, principal, key string) {
	a.forget(ctx, "idempotency key", func(ctx context.Context) error {
		return a.idem.Release(ctx, principal, key)
	})
}

// forget runs del, a deletion of what, and when the database refuses,
// runs it again in the background until it succeeds or idemStale has
// passed.
func (a *api) forget(ctx context.Context, what string, del func(context.Context) error) {
	err := del(ctx)
	if err == nil {
		return
	}
	a.d.Logger.Warn("release "+what+"; will retry", "err", err)
	go func() {
		bg := a.d.Background
		deadline := time.Now().Add(idemStale)
		for wait := 50 * time.Millisecond; time.Now().Before(deadline); wait = min(2*wait, time.Second) {
			select {
			case <-bg.Done():
				return
			case <-time.After(wait):
			}
			if err = del(bg); err == nil {
				return
			}
		}
		a.d.Logger.Error("release "+what, "err", err)
	}()
}

// replay answers with a stored response.
func (a *api) replay(w http.ResponseWriter, r *http.Request, rec idempotency.Record, secret []byte) {
	body, err := idempotency.Open(secret, rec.Body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if rec.NeedID != "" {
		var contact any // null when the caller can no longer see it
		if id, perr := uuid.Parse(rec.NeedID); perr == nil {
			if n, gerr := a.d.Service.GetNeed(r.Context(), principalOf(r.Context()), id, nil); gerr == nil && n.Contact != nil {
				contact = n.Contact
			}
		}
		if body, err = withContact(body, contact); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	var headers map[string]string
	if err := json.Unmarshal([]byte(rec.Headers), &headers); err != nil {
		a.fail(w, r, err)
		return
	}
	for k, v := range headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(body)
}

var errNotNeedBody = errors.New("response body is not a need")

// withContact returns the need JSON body with its contact's value replaced
// by c's JSON, every other byte as it was: a replay is the first response
// byte for byte, the contact aside (it is not stored, and shows as it is
// now: erased since, or hidden from a caller who lost access).
func withContact(body []byte, c any) ([]byte, error) {
	start, end, err := topLevelValue(body, "contact")
	if err != nil {
		return nil, err
	}
	cj, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(body)-(end-start)+len(cj))
	out = append(out, body[:start]...)
	out = append(out, cj...)
	return append(out, body[end:]...), nil
}

// topLevelValue finds the bytes [start, end) of the value of key in the JSON
// object body. It returns errNotNeedBody when body is not an object holding
// key.
func topLevelValue(body []byte, key string) (start, end int, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, 0, errNotNeedBody
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0, 0, errNotNeedBody
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, 0, errNotNeedBody
		}
		if t == key {
			end := int(dec.InputOffset())
			return end - len(raw), end, nil
		}
	}
	return 0, 0, errNotNeedBody
}
