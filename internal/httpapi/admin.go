package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/reso-fr/reso/eventstore"
	"github.com/reso-fr/reso/internal/version"
)

func (a *api) healthz(w http.ResponseWriter, r *http.Request) {
	v := version.Get()
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": v.Version, "commit": v.Commit})
}

func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := a.d.Ready(ctx); err != nil {
		// The reason goes to the log: its text may name hosts, files or
		// queries, which an unauthenticated caller need not see.
		a.d.Logger.WarnContext(ctx, "not ready", "err", err)
		a.fail(w, r, newProblem(http.StatusServiceUnavailable, "not-ready", "Not ready",
			"the server cannot serve yet; see its logs"))
		return
	}
	body := map[string]any{"status": "ready"}
	// Ready means able to serve; the lag says whether figures are still
	// catching up, which a client may want to wait for.
	if lag, err := a.d.Service.ReadModelLag(ctx); err == nil {
		body["lag_events"], body["lag_seconds"], body["projections"] = lag.Events, lag.Seconds, lag.Projections
	}
	writeJSON(w, http.StatusOK, body)
}

// lagHeader is the header of list and statistics responses that says how
// far the read models they come from are behind the log.
const lagHeader = "Reso-Projections-Lag"

// setLag sets lagHeader ("events=12; seconds=0.410"); a lag that cannot
// be read leaves it out rather than fail the answer.
func (a *api) setLag(w http.ResponseWriter, r *http.Request) {
	lag, err := a.d.Service.ReadModelLag(r.Context())
	if err != nil {
		a.d.Logger.DebugContext(r.Context(), "read model lag", "err", err)
		return
	}
	w.Header().Set(lagHeader, fmt.Sprintf("events=%d; seconds=%.3f", lag.Events, lag.Seconds))
}

// eventView is one event of the raw log.
type eventView struct {
	ID            uuid.UUID           `json:"id"`
	StreamID      string              `json:"stream_id"`
	Version       int64               `json:"version"`
	Position      string              `json:"position"`
	Type          string              `json:"type"`
	SchemaVersion int                 `json:"schema_version"`
	Data          json.RawMessage     `json:"data"`
	Metadata      eventstore.Metadata `json:"metadata"`
	RecordedAt    time.Time           `json:"recorded_at"`
}

func (a *api) events(w http.ResponseWriter, r *http.Request) {
	after, err := eventstore.ParsePosition(r.URL.Query().Get("after"))
	if err != nil {
		a.fail(w, r, invalidField("after", "a position as returned in Reso-Position"))
		return
	}
	limit, err := intParam(r, "limit", 100, 1000)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	evs, err := a.d.Service.Events(r.Context(), principalOf(r.Context()), after, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]eventView, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventView{ID: e.ID, StreamID: e.StreamID, Version: e.Version, Position: e.Position.String(),
			Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data, Metadata: e.Metadata, RecordedAt: e.RecordedAt})
	}
	next := after.String()
	if len(evs) > 0 {
		next = evs[len(evs)-1].Position.String()
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out, "next_after": next})
}

// projectionView is one projection's status.
type projectionView struct {
	Name       string  `json:"name"`
	Position   string  `json:"position"`
	LagEvents  int64   `json:"lag_events"`
	LagSeconds float64 `json:"lag_seconds"`
	State      string  `json:"state"`
	LastError  string  `json:"last_error"`
}

func (a *api) listProjections(w http.ResponseWriter, r *http.Request) {
	sts, err := a.d.Service.ProjectionStatuses(r.Context(), principalOf(r.Context()))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]projectionView, 0, len(sts))
	for _, s := range sts {
		out = append(out, projectionView{Name: s.Name, Position: s.Position, LagEvents: s.LagEvents,
			LagSeconds: s.LagSeconds, State: s.State, LastError: s.LastError})
	}
	writeJSON(w, http.StatusOK, map[string]any{"projections": out})
}

// rebuild starts a projection's rebuild in the background and answers 202;
// GET /api/projections shows its state.
func (a *api) rebuild(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if err := a.d.Service.StartRebuild(r.Context(), principalOf(r.Context()), name); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"projection": name, "state": "rebuilding", "status_url": "/api/projections"})
}
