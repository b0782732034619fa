package bridge

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/myna"
)

// The parsers of what the network sends: the consent form, the Accept
// header, request bodies, the qr query, origins.

func FuzzParseForm(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		in := append([]byte(nil), body...)
		fm, err := parseForm(in)
		if err != nil {
			return
		}
		for k, v := range fm {
			if limit, ok := formFields[k]; !ok || len(v) > limit {
				t.Fatalf("field %q (%d bytes) got through", k, len(v))
			}
		}
		for _, kind := range []myna.Secret{myna.ShortPIN, myna.SignPassword, myna.CodeA, myna.CodeB} {
			if s, problem := fm.secret(kind); problem == "" && len(s) == 0 {
				t.Fatal("an empty secret was accepted")
			}
		}
		fm.wipe()
		if len(fm) != 0 {
			t.Fatal("wipe left fields")
		}
	})
}

func FuzzWantsCBOR(f *testing.F) {
	f.Fuzz(func(t *testing.T, accept string) {
		got := wantsCBOR(accept)
		if got && !strings.Contains(strings.ToLower(accept), "application/cbor") {
			t.Fatalf("CBOR chosen for %q", accept)
		}
	})
}

func FuzzReadRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, asCBOR bool) {
		r := httptest.NewRequest("POST", "/v1/readers/x/read", bytes.NewReader(body))
		if asCBOR {
			r.Header.Set("Content-Type", mediaCBOR)
		}
		var q ReadRequest
		if aerr := decodeBody(httptest.NewRecorder(), r, maxJSONBody, &q); aerr != nil {
			if aerr.Status != http.StatusBadRequest && aerr.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d", aerr.Status)
			}
			return
		}
		ro, data, err := q.readOptions()
		if err != nil {
			return
		}
		if len(ro.Parts) == 0 || len(data) < len(ro.Parts) {
			t.Fatalf("parts %v data %v", ro.Parts, data)
		}
	})
}

func FuzzSignRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, asCBOR bool) {
		r := httptest.NewRequest("POST", "/v1/readers/x/sign", bytes.NewReader(body))
		if asCBOR {
			r.Header.Set("Content-Type", mediaCBOR)
		}
		var q SignRequest
		if aerr := decodeBody(httptest.NewRecorder(), r, maxJSONBody, &q); aerr != nil {
			return
		}
		if h, err := parseHash(q.Hash); err == nil && h.Size() == 0 {
			t.Fatal("a hash of size 0")
		}
	})
}

func FuzzQRQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		kind, _, err := parseQRQuery(raw)
		if err == nil && kind.String() != "age" {
			t.Fatalf("kind %v from %q", kind, raw)
		}
	})
}

func FuzzCanonicalOrigin(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		c, err := canonicalOrigin(s)
		if err != nil {
			return
		}
		again, err := canonicalOrigin(c)
		if err != nil || again != c {
			t.Fatalf("%q -> %q -> %q, %v", s, c, again, err)
		}
		if !strings.HasPrefix(c, "http://") && !strings.HasPrefix(c, "https://") {
			t.Fatalf("%q", c)
		}
	})
}
