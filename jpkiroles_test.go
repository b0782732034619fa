package mynakit_test

import (
	"strings"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/trust"
)

// Finding 4 of issue 14: a signing certificate served from the
// authentication certificate's EF chains to a J-LIS root — the signing
// one — and must fail: the signing root verifies only signing
// certificates.
func TestSigningCertificateInTheAuthEFFails(t *testing.T) {
	img := simtest.Image(t)
	simtest.SetEF(t, img, myna.JPKI, myna.JPKIAuthCert, append([]byte(nil), simtest.EF(t, img, myna.JPKI, myna.JPKISignCert)...))
	r := read(t, img, mynakit.ReadOptions{})
	c := mustCheck(t, r, trust.CheckAuthCert, trust.Fail)
	if !strings.Contains(c.Detail, "signing") {
		t.Errorf("detail %q", c.Detail)
	}
	if r.Verdict == trust.Genuine || r.Verdict == trust.GenuineExpired {
		t.Fatalf("verdict %s", r.Verdict)
	}
}

// An authentication root stored as the card's signing CA certificate does
// not pass x509:sign-ca-certificate in a thorough read.
func TestAuthRootInTheSignCAEFFails(t *testing.T) {
	img := simtest.Image(t)
	simtest.SetEF(t, img, myna.JPKI, myna.JPKISignCACert, append([]byte(nil), simtest.EF(t, img, myna.JPKI, myna.JPKIAuthCACert)...))
	r := read(t, img, mynakit.ReadOptions{Thorough: true})
	mustCheck(t, r, trust.CheckSignCACert, trust.Fail)
	mustCheck(t, r, trust.CheckAuthCACert, trust.Pass)
	if r.Verdict != trust.NotGenuine {
		t.Fatalf("verdict %s", r.Verdict)
	}
}
