package mynakit_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/trust"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The report's JSON is the contract the CLI prints and the bridge serves:
// it is compared byte for byte with a golden file (go test -update
// rewrites it after a deliberate change, which the README must follow).
func TestReportJSONGolden(t *testing.T) {
	r := read(t, simtest.Image(t), mynakit.ReadOptions{Now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)})
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const golden = "testdata/report-default.golden.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("report JSON differs from %s (run go test -update after a deliberate change):\n%s", golden, got)
	}
	// Values no signature covers sit under "unsigned", and nowhere else.
	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	surface := doc["surface"].(map[string]any)
	if _, ok := surface["expiry_date"]; ok {
		t.Error("the unsigned expiry date sits beside the signed card-face fields")
	}
	if u := surface["unsigned"].(map[string]any); u["expiry_date"] != "2035-02-17" {
		t.Errorf("surface.unsigned %v", u)
	}
	if c := doc["common"].(map[string]any); len(c) != 1 || c["unsigned"] == nil {
		t.Errorf("common %v: everything in it is unsigned", c)
	}
	if v := doc["verification"].(map[string]any); v["test_anchors"] != true {
		t.Errorf("verification %v does not say it rests on test anchors", v)
	}
}

// The README lists every check name, and only those.
func TestREADMEListsEveryCheck(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	sect := string(b)
	i := strings.Index(sect, "<!-- checks -->")
	j := strings.Index(sect, "<!-- /checks -->")
	if i < 0 || j < i {
		t.Fatal("README has no <!-- checks --> list")
	}
	var listed []string
	for _, m := range regexp.MustCompile("`([a-z0-9]+:[a-z0-9-]+)`").FindAllStringSubmatch(sect[i:j], -1) {
		listed = append(listed, m[1])
	}
	var known []string
	for _, c := range trust.KnownChecks() {
		known = append(known, string(c))
	}
	sort.Strings(listed)
	sort.Strings(known)
	if strings.Join(listed, " ") != strings.Join(known, " ") {
		t.Fatalf("README lists\n  %v\nthe code knows\n  %v", listed, known)
	}
	for _, want := range []string{"## What \"genuine\" means", "| 4 |", "genuine-expired"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("README lacks %q", want)
		}
	}
}

// Every check a read makes is a known name.
func TestChecksAreKnown(t *testing.T) {
	known := map[trust.CheckName]bool{}
	for _, c := range trust.KnownChecks() {
		known[c] = true
	}
	r := read(t, simtest.Image(t), mynakit.ReadOptions{Thorough: true, ProveJPKIKey: true})
	if r.Verdict != trust.Genuine {
		_, bad := simtest.Verdict(r)
		t.Fatalf("thorough read: %s %v", r.Verdict, bad)
	}
	for _, c := range r.Checks {
		if !known[c.Name] {
			t.Errorf("check %q is not in trust.KnownChecks", c.Name)
		}
	}
}
