package doctor

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A browser policy file is whatever an administrator (or anyone able to
// write there) put in it: any bytes give findings, never a panic, and a
// message stays one bounded line per policy.
func FuzzDoctorPolicies(f *testing.F) {
	f.Add([]byte(`{"LocalNetworkAccessBlockedForUrls":["*"]}`))
	f.Add([]byte(`{"LoopbackNetworkAllowedForUrls":["https://example.jp"],"LocalNetworkAccessRestrictionsEnabled":true}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs := checkPolicies(map[string][]byte{"/etc/x.json": b}, nil)
		if len(fs) == 0 {
			t.Fatal("no finding")
		}
		for _, f := range fs {
			if f.Check != CheckBrowserPolicy || len(f.Message) > 64+len(LNAPolicies)*(48+200+len("…")+2) {
				t.Fatalf("finding %+v", f)
			}
			if utf8.ValidString(string(b)) && strings.Contains(f.Message, "\n") {
				t.Fatalf("multi-line message %q", f.Message)
			}
		}
	})
}
