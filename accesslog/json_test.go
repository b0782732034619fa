package accesslog

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/mynakit/mynakit/internal/golden"
)

// TestVerificationJSON: a check's JSON is the map the command-line tool
// built before it had a type (kept here as the reference) — for a damaged
// log with a head and for an intact one without — and the golden files.
func TestVerificationJSON(t *testing.T) {
	damaged := Report{Entries: 3, TornBytes: 7, Head: &Head{Seq: 3, Hash: "ab12"},
		Problems: []Problem{{Entry: 2, Kind: Altered, Detail: "hash <does not> match & more"}, {Entry: 0, Kind: Torn, Detail: "7 bytes"}}}
	intact := Report{Entries: 0}
	for _, tc := range []struct {
		rep  Report
		file string
	}{{damaged, "verification-damaged.golden.json"}, {intact, "verification-intact.golden.json"}} {
		path := "/var/lib/mynakit/access.log"
		want := golden.Indented(t, map[string]any{"path": path, "intact": tc.rep.Intact(), "entries": tc.rep.Entries, "head": tc.rep.Head, "problems": tc.rep.Problems})
		got := golden.Indented(t, tc.rep.Verification(path))
		if !bytes.Equal(got, want) {
			t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
		}
		golden.Check(t, tc.file, got)
	}
}

// TestEntryJSON: an entry as stored (one line) is the golden file byte for
// byte: the stored form is what the hash chain covers.
func TestEntryJSON(t *testing.T) {
	e := Entry{Seq: 7, Time: time.Date(2026, 12, 7, 9, 30, 0, 123000000, time.UTC), ID: "op-1", Event: End,
		Origin: "http://localhost:8080", Reader: "ACS ACR39U 00 00", Action: "read", Data: []string{"text", "surface"},
		Outcome: "genuine", Card: "c0ffee", Prev: "00", Hash: "ff"}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "entry.golden.json", append(b, '\n'))
}
