package qr

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// indent is the command-line tool's JSON encoding.
func indent(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if os.Getenv("MYNAKIT_WRITE_TESTDATA") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (MYNAKIT_WRITE_TESTDATA=1 after a deliberate change):\n%s", path, got)
	}
}

// TestResultJSON: a verification result's JSON, for each kind, is the
// golden file byte for byte.
func TestResultJSON(t *testing.T) {
	golden(t, "verify-age.golden.json", indent(t, Verify(ageCode(t), simStore(t))))
	golden(t, "verify-attributes.golden.json", indent(t, Verify(attributesCode(t), simStore(t))))
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
		want := indent(t, map[string]any{"kind": tc.p.Kind.String(), "text": text, "payload_bytes": len(enc), "qr_version": v})
		got := indent(t, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
		}
		golden(t, tc.file, got)
	}
}
