package jpki

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"io"
	"net/http"

	"github.com/digitorus/timestamp"
)

// HTTPTimestamper asks the RFC 3161 time-stamping authority at url (HTTP
// POST of an application/timestamp-query) for a token over a SHA-256
// digest.
func HTTPTimestamper(ctx context.Context, url string) Timestamper {
	return func(digest []byte) ([]byte, error) {
		r := timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest, Certificates: true}
		req, err := r.Marshal()
		if err != nil {
			return nil, err
		}
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req))
		if err != nil {
			return nil, err
		}
		hreq.Header.Set("Content-Type", "application/timestamp-query")
		resp, err := http.DefaultClient.Do(hreq)
		if err != nil {
			return nil, fmt.Errorf("time-stamping authority: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("time-stamping authority answered %s", resp.Status)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		ts, err := timestamp.ParseResponse(body)
		if err != nil {
			return nil, fmt.Errorf("time-stamping authority: %w", err)
		}
		if !bytes.Equal(ts.HashedMessage, digest) {
			return nil, fmt.Errorf("time-stamping authority stamped another digest")
		}
		return ts.RawToken, nil
	}
}
