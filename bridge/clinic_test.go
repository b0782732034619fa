package bridge_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/oqs"
	"github.com/mynakit/mynakit/oqs/oqssim"
)

// A face folder that cannot be listed is not a face result (no
// "file":"."): it is an access-log entry of its own and an event for the
// counter, told again to a counter stream that opens during the outage;
// the counter hears when results come again.
func TestClinicFaceFolderUnreadable(t *testing.T) {
	root := t.TempDir()
	term, err := oqssim.New(oqssim.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, withTerminal(), withOptions(func(o *bridge.Options) {
		o.Clinic = &bridge.ClinicOptions{Root: root, ScanInterval: 20 * time.Millisecond}
	}))
	clinic := e.pair(appOrigin, `{"clinic":true}`)
	faces := e.openStream("/v1/oqs/events", app(clinic))
	counter := e.events(e.counter())
	isFolder := func(readable bool) func(sse) bool {
		return func(ev sse) bool { return ev.name == "oqs-folder" && ev.data["readable"] == readable }
	}

	face := filepath.Join(root, oqs.DirFace)
	if err := os.Rename(face, face+".away"); err != nil {
		t.Fatal(err)
	}
	got := counter.until(t, isFolder(false))
	if msg, _ := got[len(got)-1].data["error"].(string); msg == "" {
		t.Errorf("the folder event says nothing: %v", got[len(got)-1])
	}
	// A counter page that opens now hears of it at once.
	late := e.events(e.counter())
	late.until(t, isFolder(false))

	if err := os.Rename(face+".away", face); err != nil {
		t.Fatal(err)
	}
	if _, err := term.EmitFace(context.Background(), "valid"); err != nil {
		t.Fatal(err)
	}
	for _, ev := range faces.until(t, func(ev sse) bool { return ev.name == "face" }) {
		if ev.name != "face" {
			continue
		}
		if f, _ := ev.data["file"].(string); f == "." || f == "" {
			t.Errorf("the folder outage was rendered as a face file: %v", ev.data)
		}
		if el, _ := ev.data["eligibility"].(map[string]any); el["outcome"] != "valid" {
			t.Errorf("face %v", ev.data)
		}
	}
	counter.until(t, isFolder(true))

	_, entries, err := accesslog.Verify(e.log.Path())
	if err != nil {
		t.Fatal(err)
	}
	var begin, end bool
	for _, en := range entries {
		if en.Action != string(bridge.ActionOQSFaceFolder) {
			continue
		}
		begin = begin || en.Event == accesslog.Begin
		end = end || en.Event == accesslog.End && en.Outcome == "error:oqs-folder"
	}
	if !begin || !end {
		t.Fatalf("the outage is not in the access log: %+v", entries)
	}
}
