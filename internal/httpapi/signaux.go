package httpapi

import (
	"io"
	"net/http"

	"github.com/reso-fr/reso/internal/app"
)

// importSignauxFaibles takes a Signaux Faibles list file (text/csv or
// application/json) and answers what the import did: 201 for a new import,
// 200 when the list was already imported as is.
func (a *api) importSignauxFaibles(w http.ResponseWriter, r *http.Request) {
	format, err := app.SFFormatOfMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	skip, err := boolParam(r, "skip_invalid")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body) // the idempotency middleware read and bounded it
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	res, err := a.d.Service.ImportSignauxFaibles(r.Context(), principalOf(r.Context()), app.SFImportInput{
		Data: body, Format: format, Label: q.Get("list"), Period: q.Get("period"), SkipInvalid: isTrue(skip),
	}, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if !res.Unchanged {
		status = http.StatusCreated
		w.Header().Set(positionHeader, res.Position.String())
	}
	writeJSON(w, status, res)
}

// sfCompanies lists the alerted companies of the caller's territories.
func (a *api) sfCompanies(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := app.SFCompaniesQuery{Alert: v.Get("alert"), WithoutNeedSince: v.Get("without_need_since"), Cursor: v.Get("cursor")}
	var err error
	if q.Limit, err = intParam(r, "limit", app.DefaultLimit, app.MaxLimit); err != nil {
		a.fail(w, r, err)
		return
	}
	if q.MinPosition, err = minPosition(r); err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.d.Service.SFCompanies(r.Context(), principalOf(r.Context()), q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.setLag(w, r)
	writeJSON(w, http.StatusOK, page)
}
