package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// Media types the API speaks.
const (
	mediaJSON = "application/json"
	mediaCBOR = "application/cbor"
	mediaPNG  = "image/png"
)

// wantsCBOR reads the Accept header: CBOR when application/cbor is
// acceptable and preferred at least as much as JSON. Anything unreadable
// means JSON, the default.
func wantsCBOR(accept string) bool {
	qCBOR, qJSON := -1.0, -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 || v > 1 {
				continue
			}
			q = v
		}
		switch mt {
		case mediaCBOR:
			qCBOR = max(qCBOR, q)
		case mediaJSON:
			qJSON = max(qJSON, q)
		case "*/*", "application/*":
			qJSON = max(qJSON, q)
		}
	}
	return qCBOR > 0 && qCBOR >= qJSON
}

var cborEnc = func() cbor.EncMode {
	m, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

var cborDec = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		MaxNestedLevels:   16,
		MaxArrayElements:  1024,
		MaxMapPairs:       64,
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// jsonToCBOR re-encodes a JSON document as CBOR with the same data: objects
// become maps, numbers integers where they are whole, strings stay strings
// (so bytes that JSON carries as base64 stay base64 text).
func jsonToCBOR(b []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return cborEnc.Marshal(numbers(v))
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// write sends v (anything that marshals to JSON, or raw JSON) as JSON or,
// when asked, CBOR.
func write(w http.ResponseWriter, r *http.Request, status int, v any) {
	var b []byte
	var err error
	if raw, ok := v.(json.RawMessage); ok {
		b = raw
	} else if b, err = json.Marshal(v); err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"応答を作れません could not encode the answer"}}`)
	}
	h := w.Header()
	h.Add("Vary", "Accept")
	if r != nil && wantsCBOR(r.Header.Get("Accept")) {
		if c, err := jsonToCBOR(b); err == nil {
			h.Set("Content-Type", mediaCBOR)
			w.WriteHeader(status)
			_, _ = w.Write(c)
			return
		}
	}
	h.Set("Content-Type", mediaJSON+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte("\n"))
}

// apiError is an error as the API reports it.
type apiError struct {
	Status     int    `json:"status"`
	Code       string `json:"code"`
	Message    string `json:"message"` // Japanese, then English
	Remaining  *int   `json:"remaining,omitempty"`
	RetryAfter int    `json:"retry_after,omitempty"` // seconds
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	write(w, r, e.Status, map[string]any{"error": e})
}

// Body limits.
const (
	maxJSONBody    = 64 << 10
	maxConsentBody = 4 << 10
)

// decodeBody reads a JSON or CBOR request body of at most limit bytes into
// v, refusing unknown members. An empty body leaves v as it is.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) *apiError {
	body, aerr := readBody(w, r, limit)
	if aerr != nil {
		return aerr
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case mediaCBOR:
		if err := cborDec.Unmarshal(body, v); err != nil {
			return newError(http.StatusBadRequest, "bad-request", "要求を読めません the CBOR body is not valid: "+err.Error())
		}
	case mediaJSON, "":
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return newError(http.StatusBadRequest, "bad-request", "要求を読めません the JSON body is not valid: "+err.Error())
		}
		if d.More() {
			return newError(http.StatusBadRequest, "bad-request", "要求を読めません the JSON body holds more than one value")
		}
	default:
		return newError(http.StatusUnsupportedMediaType, "unsupported-media-type", "application/json か application/cbor で送ってください send application/json or application/cbor")
	}
	return nil
}

// readBody reads at most limit bytes; a longer body is 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, newError(http.StatusBadRequest, "bad-request", "要求を読めません could not read the body")
	}
	return b, nil
}

func tooLarge(limit int64) *apiError {
	return newError(http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("要求が大きすぎます the body is larger than %d bytes", limit))
}
