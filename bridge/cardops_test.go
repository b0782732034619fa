package bridge_test

import (
	"strings"
	"testing"

	"github.com/mynakit/mynakit/accesslog"
)

// No QR code from a card that is not genuine: the rule is the library's
// (Report.QRCode), and the bridge maps its *NotGenuineError to its
// not-genuine answer; a genuine card gets its PNG.
func TestQRRouteRefusesACardThatIsNotGenuine(t *testing.T) {
	for _, broken := range []bool{false, true} {
		e := start(t, withImage(imageWithPhoto(t, nil, broken)), withTerminal())
		h := app(e.pair(appOrigin))
		r := e.follow(e.do("GET", "/v1/readers/sim/qr?kind=age", nil, h), h)
		if !broken {
			if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
				t.Fatalf("genuine card: %d %q %.200s", r.status, r.header.Get("Content-Type"), r.body)
			}
			continue
		}
		if r.status != 422 || !strings.Contains(string(r.body), `"not-genuine"`) {
			t.Fatalf("a card that is not genuine: %d %s", r.status, r.body)
		}
		_, entries, err := accesslog.Verify(e.log.Path())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, en := range entries {
			found = found || en.Action == "qr" && en.Event == accesslog.End && en.Outcome == "error:not-genuine"
		}
		if !found {
			t.Fatalf("the refusal is not in the access log: %+v", entries)
		}
	}
}
