package pin

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/mynakit/mynakit/myna"
)

func indentJSON(t *testing.T, v any) []byte {
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

func goldenJSON(t *testing.T, name string, got []byte) {
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

// TestStatusReportJSON: the status JSON is the map the command-line tool
// built before it had a type (kept as the reference), null never standing
// for no keys, and the golden file.
func TestStatusReportJSON(t *testing.T) {
	keys := []KeyStatus{
		{Name: myna.KeyJPKIAuthPIN, Applet: "jpki", Remaining: 2, Max: 3},
		{Name: myna.KeyJPKISignPassword, Applet: "jpki", Remaining: 0, Max: 5, Blocked: true, MaxAssumed: true},
	}
	if got, want := indentJSON(t, NewStatusReport(keys)), indentJSON(t, map[string]any{"keys": keys}); !bytes.Equal(got, want) {
		t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
	}
	goldenJSON(t, "status.golden.json", indentJSON(t, NewStatusReport(keys)))
	if got := indentJSON(t, NewStatusReport(nil)); !bytes.Equal(got, []byte("{\n  \"keys\": []\n}\n")) {
		t.Errorf("no keys: %s", got)
	}
}

// TestChangeReportJSON: a change's JSON, with a key changed, one refused
// and one skipped, is the golden file.
func TestChangeReportJSON(t *testing.T) {
	results := []ChangeResult{
		{Key: myna.MustKey(myna.KeyJPKIAuthPIN), Holds: HoldsNew, Attempted: true},
		{Key: myna.MustKey(myna.KeyTextPIN), Holds: HoldsOld, Attempted: true, Err: errors.New("the card refused <the> value & kept the old")},
		{Key: myna.MustKey(myna.KeyCommonPIN), Holds: HoldsOld},
	}
	goldenJSON(t, "change.golden.json", indentJSON(t, NewChangeReport(results)))
	if got := indentJSON(t, NewChangeReport(nil)); !bytes.Equal(got, []byte("{\n  \"keys\": []\n}\n")) {
		t.Errorf("no results: %s", got)
	}
}
