package face

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/mynakit/mynakit/trust"
)

// TestIndexJSON: index.json is the map the command-line tool built before
// it had a type (kept here as the reference), with pictures and without,
// and the golden file.
func TestIndexJSON(t *testing.T) {
	type indexEntry struct {
		Part     Part            `json:"part"`
		File     string          `json:"file"`
		Bytes    int             `json:"bytes"`
		Verified bool            `json:"verified"`
		Covered  trust.CheckName `json:"covered_by,omitempty"`
	}
	ex := []Export{
		{Part: PartPhoto, Filename: "photo.jp2", Data: make([]byte, 3000), Verified: true},
		{Part: PartMyNumber, Filename: "my-number.png", Data: make([]byte, 900)},
	}
	for _, tc := range []struct {
		ex   []Export
		file string
	}{{ex, "index.golden.json"}, {nil, "index-empty.golden.json"}} {
		var index []indexEntry
		for _, e := range tc.ex {
			index = append(index, indexEntry{Part: e.Part, File: e.Filename, Bytes: len(e.Data), Verified: e.Verified, Covered: e.Part.CoveredBy()})
		}
		want, _ := json.MarshalIndent(map[string]any{"images": index, "verdict": trust.Genuine}, "", "  ")
		got, err := json.MarshalIndent(NewIndex(tc.ex, trust.Genuine), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
		}
		got = append(got, '\n')
		path := "testdata/" + tc.file
		if os.Getenv("MYNAKIT_WRITE_TESTDATA") != "" {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if golden, err := os.ReadFile(path); err != nil || !bytes.Equal(got, golden) {
			t.Errorf("%s differs (MYNAKIT_WRITE_TESTDATA=1 after a deliberate change): %v\n%s", path, err, got)
		}
	}
}
