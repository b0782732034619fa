package bridge

import (
	"testing"

	"github.com/mynakit/mynakit"
)

// The certificate route's query: never MatchText for the authentication
// certificate, and only from an explicit true.
func FuzzCertificateQuery(f *testing.F) {
	for _, s := range []string{"", "match_text=true", "match_text=1", "match_text=false", "match_text=true&match_text=true", "x=1", "match_text=%zz"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, sign bool) {
		kind := mynakit.CertAuth
		if sign {
			kind = mynakit.CertSign
		}
		o, err := parseCertificateQuery(raw, kind)
		if err != nil {
			if o.MatchText {
				t.Fatalf("%q: an error with options %+v", raw, o)
			}
			return
		}
		if o.MatchText && (kind != mynakit.CertSign || len(raw) < len("match_text=1")) {
			t.Fatalf("%q (%s): MatchText", raw, kind)
		}
	})
}
