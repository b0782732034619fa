package mynakit_test

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/pdfsig"
	"github.com/mynakit/mynakit/trust"
)

// SigningKey for a PAdES signature: the password is asked once for two
// signatures, the timestamp authority is asked with no card transaction
// held, and the signed PDF verifies.
func TestSigningKeyPDF(t *testing.T) {
	w := &txWatch{Transport: simtest.Sim(t, simtest.Image(t))}
	p := simtest.NewPrompter(simtest.SignPassword)
	prompts := 0
	p.During = func() { prompts++ }
	c, err := mynakit.OpenTransport(w, "watched", mynakit.OpenOptions{Prompter: p, TrustDirs: []string{simtest.TrustDir(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	signer, cert, ca, err := c.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("pdfsig/testdata/classic.pdf")
	if err != nil {
		t.Fatal(err)
	}
	var heldAtTSA []bool
	tsa := func([]byte) ([]byte, error) {
		heldAtTSA = append(heldAtTSA, w.held)
		return nil, errors.New("no TSA in this test")
	}
	if _, err := pdfsig.Sign(src, signer, cert, []*x509.Certificate{ca}, pdfsig.SignOptions{Timestamper: tsa}); err == nil {
		t.Fatal("the TSA's failure was not reported")
	}
	if len(heldAtTSA) != 1 || heldAtTSA[0] {
		t.Fatalf("transaction held while asking the TSA: %v", heldAtTSA)
	}
	out, err := pdfsig.Sign(src, signer, cert, []*x509.Certificate{ca}, pdfsig.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if prompts != 1 {
		t.Errorf("the signing password was asked %d times for two signatures", prompts)
	}
	store, err := mynakit.NewTrustStore([]string{simtest.TrustDir(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pdfsig.Verify(out, pdfsig.VerifyOptions{Store: store})
	if err != nil || res.Verdict != trust.Genuine {
		t.Fatalf("%v %+v", err, res)
	}
}
