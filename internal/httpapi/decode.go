package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxBodyBytes is the largest request body accepted, but on routes that
// take files (route.maxBody); larger ones get 413.
const MaxBodyBytes = 1 << 20

// MaxImportBytes is the largest directory file POST /api/imports/directory
// accepts: a région's thousands of referents, with room to spare.
const MaxImportBytes = 20 << 20

func tooLargeFor(limit int64) *Problem {
	return newProblem(http.StatusRequestEntityTooLarge, "too-large", "Request body too large",
		fmt.Sprintf("bodies are limited to %d bytes", limit))
}

// readBody reads the whole body, refusing more than MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBodyUpTo(w, r, MaxBodyBytes)
}

// readBodyUpTo reads the whole body, refusing more than limit bytes.
func readBodyUpTo(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLargeFor(limit)
		}
		return nil, badRequest("cannot read the request body: " + err.Error())
	}
	return body, nil
}

// decode reads r's JSON body into v. Unknown fields and malformed JSON are
// 400s, values of the wrong JSON type are 422s naming the field, and bodies
// over MaxBodyBytes are 413s.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if dec.More() {
		return badRequest("the request body must hold one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("the request body must hold one JSON value")
	}
	return nil
}

// decodeProblem classifies a json decoding error.
func decodeProblem(err error) *Problem {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("malformed JSON: " + err.Error())
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return badRequest("the request body must be a JSON object")
		}
		return invalidField(field, "must be a JSON "+te.Type.Kind().String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest("unknown field "+name, FieldError{Field: name, Message: "unknown field"})
	}
	return invalidField("body", err.Error())
}
