package mynakit_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/trust"
)

// otherSigningCertificate is person B's signing certificate, issued by the
// simulator's signing root (a genuine certificate of another holder) with
// a key of B's own — not the key on card A.
func otherSigningCertificate(t *testing.T) []byte {
	t.Helper()
	b := simtest.Image(t, func(p *persona.Persona) {
		p.Name = "別人　花子"
		p.Address = "大阪府大阪市北区中之島１－３－２０"
	})
	orig, err := x509.ParseCertificate(simtest.Object(t, simtest.EF(t, b, myna.JPKI, myna.JPKISignCert)).Raw)
	if err != nil {
		t.Fatal(err)
	}
	root, err := x509.ParseCertificate(simtest.Object(t, simtest.EF(t, b, myna.JPKI, myna.JPKISignCACert)).Raw)
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: orig.SerialNumber, RawSubject: orig.RawSubject, NotBefore: orig.NotBefore, NotAfter: orig.NotAfter,
		KeyUsage: orig.KeyUsage, SignatureAlgorithm: x509.SHA256WithRSA}
	for _, e := range orig.Extensions {
		if e.Id.Equal([]int{2, 5, 29, 17}) {
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, e)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, &key.PublicKey, simtest.Key(t, "jpki-sign-root"))
	if err != nil {
		t.Fatal(err)
	}
	return simtest.Filler(der)
}

// Finding 3 of issue 14: card A's JPKI applet serving person B's signing
// certificate (genuine, J-LIS-issued, public: it is inside every document
// B signs) is never genuine. The authentication key's proof does not speak
// for it (unknown); the signing key's own proof fails; B's facts differ
// from the facts A's chip proved (not genuine).
func TestAnotherPersonsSigningCertificateIsNotGenuine(t *testing.T) {
	img := simtest.Image(t)
	simtest.SetEF(t, img, myna.JPKI, myna.JPKISignCert, otherSigningCertificate(t))
	cert := func(opts mynakit.CertificateOptions, answers ...string) *mynakit.CertificateReport {
		t.Helper()
		c := simtest.Open(t, simtest.Sim(t, img), mynakit.OpenOptions{Prompter: simtest.NewPrompter(answers...)})
		rep, err := c.Certificate(context.Background(), mynakit.CertSign, opts)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := findIn(rep.Checks, trust.CheckSignCert); !ok || c.Result != trust.Pass {
			t.Fatalf("B's certificate does not verify as a signing certificate: %+v", c)
		}
		return rep
	}
	rep := cert(mynakit.CertificateOptions{ProveKey: true}, simtest.SignPassword, simtest.PIN)
	if rep.Verdict != trust.Undecided {
		t.Fatalf("--prove-key: %s %+v", rep.Verdict, rep.Checks)
	}
	if c, _ := findIn(rep.Checks, trust.CheckBindingSignCert); c.Result != trust.Unknown {
		t.Fatalf("--prove-key binding: %+v", c)
	}
	rep = cert(mynakit.CertificateOptions{ProveSignKey: true}, simtest.SignPassword)
	if c, _ := findIn(rep.Checks, trust.CheckBindingSignCert); rep.Verdict != trust.NotGenuine || c.Result != trust.Fail {
		t.Fatalf("--prove-sign-key: %s %+v", rep.Verdict, rep.Checks)
	}
	rep = cert(mynakit.CertificateOptions{MatchText: true}, simtest.SignPassword, simtest.PIN, simtest.PIN)
	if c, _ := findIn(rep.Checks, trust.CheckBindingSignCert); rep.Verdict != trust.NotGenuine || c.Result != trust.Fail || !strings.Contains(c.Detail, "name") {
		t.Fatalf("--match-text: %s %+v", rep.Verdict, rep.Checks)
	}

	// Card A's own certificate is genuine by either tie, and never by the
	// authentication key's proof alone.
	own := simtest.Image(t)
	c := simtest.Open(t, simtest.Sim(t, own), mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.SignPassword)})
	if rep, err := c.Certificate(context.Background(), mynakit.CertSign, mynakit.CertificateOptions{ProveSignKey: true}); err != nil || rep.Verdict != trust.Genuine {
		t.Fatalf("own certificate, --prove-sign-key: %v %+v", err, rep)
	}
	c = simtest.Open(t, simtest.Sim(t, own), mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.SignPassword, simtest.PIN, simtest.PIN)})
	if rep, err := c.Certificate(context.Background(), mynakit.CertSign, mynakit.CertificateOptions{MatchText: true}); err != nil || rep.Verdict != trust.Genuine {
		t.Fatalf("own certificate, --match-text: %v %+v", err, rep)
	}
}

// The signing key's proof signs SHA-256(context ‖ N): never what a CMS
// signature signs (SHA-256 of DER signed attributes, which start with the
// SET tag 0x31), and the card is handed exactly that digest.
func TestSignKeyProofIsDomainSeparated(t *testing.T) {
	if jpki.SignKeyProofContext[0] == 0x31 || jpki.SignKeyProofContext[0] == '<' {
		t.Fatal("the context starts like a CMS signed-attributes SET or an XML SignedInfo")
	}
	nonce := bytes.Repeat([]byte{7}, 32)
	want := sha256.Sum256(append([]byte(jpki.SignKeyProofContext), nonce...))
	if jpki.SignKeyProofDigest(nonce) != want || want == sha256.Sum256(nonce) {
		t.Fatal("SignKeyProofDigest is not SHA-256(context ‖ N)")
	}
	// What the card signed in a proof, seen on the wire: a DigestInfo over
	// the proof digest of the nonce the host drew.
	img := simtest.Image(t)
	sc := simtest.Sim(t, img)
	var seen [][]byte
	c, err := mynakit.OpenTransport(recorder{sc, &seen}, "rec", mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.SignPassword)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Certificate(context.Background(), mynakit.CertSign, mynakit.CertificateOptions{ProveSignKey: true, Random: bytes.NewReader(nonce)}); err != nil {
		t.Fatal(err)
	}
	di, _ := jpki.DigestInfo(crypto.SHA256, want[:])
	found := false
	for _, cmd := range seen {
		if p, err := apdu.ParseCommand(cmd); err == nil && p.INS == 0x2A && bytes.Equal(p.Data, di) {
			found = true
		}
	}
	if !found {
		t.Fatal("the card was not asked to sign the domain-separated proof digest")
	}
}

type recorder struct {
	apdu.Transport
	seen *[][]byte
}

func (r recorder) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	*r.seen = append(*r.seen, append([]byte(nil), cmd...))
	return r.Transport.Transmit(ctx, cmd)
}

func findIn(checks []trust.Check, n trust.CheckName) (trust.Check, bool) {
	for _, c := range checks {
		if c.Name == n {
			return c, true
		}
	}
	return trust.Check{}, false
}
