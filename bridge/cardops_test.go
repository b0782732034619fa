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

// The signing certificate is tied to the chip only when asked: with
// match_text its holder facts are compared with the text applet's, and
// the verdict is genuine; without it, unknown. match_text is refused for
// the authentication certificate.
func TestSignCertificateMatchText(t *testing.T) {
	e := start(t, withTerminal())
	h := app(e.pair(appOrigin))
	for _, c := range []struct {
		query, verdict, binding string
	}{
		{"", "unknown", "unknown"},
		{"?match_text=true", "genuine", "pass"},
	} {
		r := e.follow(e.do("GET", "/v1/readers/sim/certificates/sign"+c.query, nil, h), h)
		if r.status != 200 {
			t.Fatalf("%q: %d %s", c.query, r.status, r.body)
		}
		v := decodeJSON(t, r.body)["verification"].(map[string]any)
		if v["verdict"] != c.verdict {
			t.Errorf("%q: verdict %v", c.query, v["verdict"])
		}
		binding := ""
		for _, ch := range v["checks"].([]any) {
			if m := ch.(map[string]any); m["name"] == "binding:sign-certificate" {
				binding, _ = m["result"].(string)
			}
		}
		if binding != c.binding {
			t.Errorf("%q: binding:sign-certificate %q in %v", c.query, binding, v["checks"])
		}
	}
	_, entries, err := accesslog.Verify(e.log.Path())
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	for _, en := range entries {
		if en.Action == "certificate" && en.Event == accesslog.Begin {
			logged = append(logged, strings.Join(en.Data, ","))
		}
	}
	if strings.Join(logged, " ") != "sign-certificate sign-certificate,text" {
		t.Errorf("logged data %q", logged)
	}
	for _, q := range []string{"/v1/readers/sim/certificates/auth?match_text=true", "/v1/readers/sim/certificates/sign?match_text=maybe", "/v1/readers/sim/certificates/sign?other=1"} {
		if r := e.do("GET", q, nil, h); r.status != 400 {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}
