package jpki

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHTTPTimestamperRefuses: the query is an RFC 3161 POST, and neither an
// error status nor a body that is no timestamp response gives a token.
func TestHTTPTimestamperRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		status     int
		body       string
	}{
		{"error status", "answered 503", http.StatusServiceUnavailable, ""},
		{"not a response", "time-stamping authority", http.StatusOK, "not DER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" || len(b) == 0 {
					http.Error(w, "bad query", http.StatusBadRequest)
					return
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			tok, err := HTTPTimestamper(context.Background(), srv.URL)(make([]byte, 32))
			if err == nil || tok != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("token %x, error %v; want an error with %q", tok, err, tc.want)
			}
		})
	}
}
