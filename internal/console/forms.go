package console

import (
	"context"
	"net/http"
	"time"

	"github.com/reso-fr/reso/internal/app"
)

// formKeyField names the hidden field holding a form's idempotency key.
const formKeyField = "cle"

const (
	// onceWait bounds how long a repeated submission waits for the first
	// one with its key to finish.
	onceWait = 10 * time.Second
	// oncePoll is how often it looks.
	oncePoll = 50 * time.Millisecond
)

// once runs a form's command at most once per idempotency key. On success
// run returns where to send the browser: once records it and redirects (303),
// and a second submission with the key is sent there too without running
// anything. When run fails, the key is released (nothing was stored) and
// once returns the error for the caller to show, with what was typed. A
// nil return means the answer is written.
func (c *console) once(w http.ResponseWriter, r *http.Request, p app.Principal, run func(m app.CommandMeta) (string, error)) error {
	key := r.PostFormValue(formKeyField)
	m := app.CommandMeta{IdempotencyKey: key}
	if key == "" || len(key) > 100 {
		// A form of ours always carries a key; a request without one (a
		// script) still works, with no protection against repeats.
		m.IdempotencyKey = ""
		loc, err := run(m)
		if err != nil {
			return err
		}
		http.Redirect(w, r, loc, http.StatusSeeOther)
		return nil
	}
	ctx := r.Context()
	deadline := time.Now().Add(onceWait)
	for {
		first, err := c.d.Sessions.Reserve(ctx, p.UserID, key)
		if err != nil {
			c.fail(w, r, p, err)
			return nil
		}
		if first {
			break
		}
		sub, ok, err := c.d.Sessions.Lookup(ctx, p.UserID, key)
		if err != nil {
			c.fail(w, r, p, err)
			return nil
		}
		if ok && sub.Done {
			http.Redirect(w, r, sub.Location, http.StatusSeeOther)
			return nil
		}
		if !ok {
			continue // released between our two reads: try to take it
		}
		if time.Now().After(deadline) {
			c.renderError(w, r, p, http.StatusConflict, "Envoi en cours",
				"Ce formulaire est encore en cours de traitement. Patientez, puis rechargez la page.")
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(oncePoll):
		}
	}
	loc, err := run(m)
	bg := context.WithoutCancel(ctx)
	if err != nil {
		if rerr := c.d.Sessions.Release(bg, p.UserID, key); rerr != nil {
			c.d.Logger.ErrorContext(ctx, "release form key", "err", rerr)
		}
		return err
	}
	if err := c.d.Sessions.Complete(bg, p.UserID, key, loc); err != nil {
		c.d.Logger.ErrorContext(ctx, "complete form key", "err", err)
	}
	http.Redirect(w, r, loc, http.StatusSeeOther)
	return nil
}
