package qr

import (
	"bytes"
	"testing"

	"github.com/mynakit/mynakit/internal/golden"
)

// TestResultJSON: a verification result's JSON, for each kind, is the
// golden file byte for byte.
func TestResultJSON(t *testing.T) {
	golden.Check(t, "verify-age.golden.json", golden.Indented(t, Verify(ageCode(t), simStore(t))))
	golden.Check(t, "verify-attributes.golden.json", golden.Indented(t, Verify(attributesCode(t), simStore(t))))
}

// TestSummaryJSON: a made code's JSON is the map the command-line tool
// built before it had a type (kept here as the reference), and the golden
// file.
func TestSummaryJSON(t *testing.T) {
	for _, tc := range []struct {
		p    *Payload
		file string
	}{{ageCode(t), "make-age.golden.json"}, {attributesCode(t), "make-attributes.golden.json"}} {
		s, err := Summarize(tc.p)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := tc.p.Text()
		enc, _ := tc.p.Encode()
		v, _ := QRVersion(tc.p)
		want := golden.Indented(t, map[string]any{"kind": tc.p.Kind.String(), "text": text, "payload_bytes": len(enc), "qr_version": v})
		got := golden.Indented(t, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
		}
		golden.Check(t, tc.file, got)
	}
}
