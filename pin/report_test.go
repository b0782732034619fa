package pin

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mynakit/mynakit/internal/golden"
	"github.com/mynakit/mynakit/myna"
)

// TestStatusReportJSON: the status JSON is the map the command-line tool
// built before it had a type (kept as the reference), null never standing
// for no keys, and the golden file.
func TestStatusReportJSON(t *testing.T) {
	keys := []KeyStatus{
		{Name: myna.KeyJPKIAuthPIN, Applet: "jpki", Remaining: 2, Max: 3},
		{Name: myna.KeyJPKISignPassword, Applet: "jpki", Remaining: 0, Max: 5, Blocked: true, MaxAssumed: true},
	}
	if got, want := golden.Indented(t, NewStatusReport(keys)), golden.Indented(t, map[string]any{"keys": keys}); !bytes.Equal(got, want) {
		t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
	}
	golden.Check(t, "status.golden.json", golden.Indented(t, NewStatusReport(keys)))
	if got := golden.Indented(t, NewStatusReport(nil)); !bytes.Equal(got, []byte("{\n  \"keys\": []\n}\n")) {
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
	golden.Check(t, "change.golden.json", golden.Indented(t, NewChangeReport(results)))
	if got := golden.Indented(t, NewChangeReport(nil)); !bytes.Equal(got, []byte("{\n  \"keys\": []\n}\n")) {
		t.Errorf("no results: %s", got)
	}
}
