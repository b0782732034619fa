package bridge_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/trust"
)

// The counter page explains every check the library can report, in
// Japanese and English.
func TestCounterPageKnowsEveryCheck(t *testing.T) {
	js, err := os.ReadFile("web/counter.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range trust.KnownChecks() {
		if !strings.Contains(string(js), "'"+string(c)+"': [") {
			t.Errorf("counter.js has no words for %s", c)
		}
	}
}

// Nothing on the pages comes from the network.
func TestPagesLoadNothingFromTheNetwork(t *testing.T) {
	ref := regexp.MustCompile(`(?i)(src|href|url)\s*[=(]\s*["']?\s*(https?:)?//`)
	for _, f := range []string{"web/index.html", "web/consent.html", "web/counter.css", "web/counter.js"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := ref.Find(b); m != nil {
			t.Errorf("%s refers to %q", f, m)
		}
		if strings.Contains(string(b), "@import") {
			t.Errorf("%s imports a stylesheet", f)
		}
	}
}
