package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/reso-fr/reso/domain"
	"github.com/reso-fr/reso/internal/app"
)

// boolParam reads an optional true/false query parameter.
func boolParam(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, invalidField(name, "true or false")
	}
	return &b, nil
}

func isTrue(b *bool) bool { return b != nil && *b }

// uploadedFile is the file of an upload: the part "file" of a
// multipart/form-data body (a browser's form, curl -F file=@x.xlsx), or
// else the body itself, named by the query's filename, by a
// Content-Disposition header, or after its content.
func uploadedFile(r *http.Request) (string, []byte, error) {
	body, err := io.ReadAll(r.Body) // the idempotency middleware read and bounded it
	if err != nil {
		return "", nil, badRequest("cannot read the request body: " + err.Error())
	}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return "", nil, invalidField("file", "the form has no part named file")
			}
			if err != nil {
				return "", nil, badRequest("malformed multipart body: " + err.Error())
			}
			if part.FormName() != "file" {
				continue
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return "", nil, badRequest("malformed multipart body: " + err.Error())
			}
			return nameOr(part.FileName(), data), data, nil
		}
	}
	if len(body) == 0 {
		return "", nil, invalidField("file", "send the file as the body, or as the part file of a multipart form")
	}
	name := r.URL.Query().Get("filename")
	if name == "" {
		if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
			name = params["filename"]
		}
	}
	return nameOr(name, body), body, nil
}

// nameOr is name, or a name after the content when there is none.
func nameOr(name string, data []byte) string {
	switch {
	case name != "":
		return name
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return "upload.xlsx"
	}
	return "upload.csv"
}

// importDirectory answers the report (200), or a 422 problem holding it
// when a line has an error and dry_run is false: then nothing was written.
func (a *api) importDirectory(w http.ResponseWriter, r *http.Request) {
	dry, err := boolParam(r, "dry_run")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	remove, err := boolParam(r, "remove_missing")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	name, data, err := uploadedFile(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rep, err := a.d.Service.ImportDirectory(r.Context(), principalOf(r.Context()), app.ImportInput{
		FileName: name, Data: data, DryRun: isTrue(dry), RemoveMissing: isTrue(remove),
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if rep.Written {
		w.Header().Set(positionHeader, rep.Position.String())
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *api) directory(w http.ResponseWriter, r *http.Request) {
	var asOf *time.Time
	t, err := timeParam(r, "as_of")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !t.IsZero() {
		asOf = &t
	}
	v, err := a.d.Service.Directory(r.Context(), principalOf(r.Context()), asOf)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) territories(w http.ResponseWriter, r *http.Request) {
	list, err := a.d.Service.Territories(r.Context(), principalOf(r.Context()))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if list == nil {
		list = []domain.Opening{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"territories": list})
}

type openingBody struct {
	At string `json:"at"`
}

func (a *api) openTerritory(w http.ResponseWriter, r *http.Request) {
	zone, err := domain.ParseZone(chi.URLParam(r, "zone"))
	if err != nil {
		a.fail(w, r, invalidField("zone", fmt.Sprintf("%q: a région or département as region:CODE or departement:CODE", chi.URLParam(r, "zone"))))
		return
	}
	var b openingBody
	if err := decode(w, r, &b); err != nil {
		a.fail(w, r, err)
		return
	}
	if strings.TrimSpace(b.At) == "" {
		a.fail(w, r, invalidField("at", "the date the service opens, YYYY-MM-DD"))
		return
	}
	res, pos, err := a.d.Service.OpenTerritory(r.Context(), principalOf(r.Context()), zone, b.At, meta(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !pos.IsZero() {
		w.Header().Set(positionHeader, pos.String())
	}
	writeJSON(w, http.StatusOK, res)
}
