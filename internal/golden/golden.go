// Package golden holds the golden-file checks the JSON outputs' tests
// share: each output's bytes are compared with a file under testdata/, and
// MYNAKIT_WRITE_TESTDATA=1 rewrites the file after a deliberate change.
// It is for tests only.
package golden

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Indented is the command-line tool's JSON encoding: two-space indent,
// HTML characters left alone, a final newline.
func Indented(t testing.TB, v any) []byte {
	t.Helper()
	return encode(t, v, true)
}

// Line is the one-object-a-line encoding (oqs watch --json).
func Line(t testing.TB, v any) []byte {
	t.Helper()
	return encode(t, v, false)
}

func encode(t testing.TB, v any, indent bool) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if indent {
		enc.SetIndent("", "  ")
	}
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Check compares got with testdata/name byte for byte.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
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
