package mynakit_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/trust"
)

func TestAuthenticateSignsTheChallengeWithTheAuthKey(t *testing.T) {
	p := simtest.NewPrompter(simtest.PIN)
	c := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{Prompter: p})
	challenge := []byte("portal login nonce 0123456789")
	sig, cert, err := c.Authenticate(context.Background(), challenge)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(challenge)
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, h[:], sig); err != nil {
		t.Fatalf("signature does not verify with the certificate's key: %v", err)
	}
	if p.Count() != 1 || p.Asked[0].Kind != myna.ShortPIN {
		t.Fatalf("asked %+v, want the 4-digit PIN once", p.Asked)
	}
	check, err := c.CertificateCheck(mynakit.CertAuth, cert, cert.NotBefore.AddDate(0, 1, 0))
	if err != nil || check.Result != trust.Pass || check.Name != trust.CheckAuthCert {
		t.Fatalf("certificate check %+v, %v", check, err)
	}
	if _, _, err := c.Authenticate(context.Background(), nil); !errors.Is(err, mynakit.ErrChallenge) {
		t.Fatalf("empty challenge: %v", err)
	}
	if _, _, err := c.Authenticate(context.Background(), make([]byte, mynakit.MaxChallenge+1)); !errors.Is(err, mynakit.ErrChallenge) {
		t.Fatalf("long challenge: %v", err)
	}
}

func TestSignDigestUsesTheSigningKey(t *testing.T) {
	p := simtest.NewPrompter(simtest.SignPassword)
	c := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{Prompter: p})
	d := sha256.Sum256([]byte("contract"))
	sig, cert, err := c.SignDigest(context.Background(), crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, d[:], sig); err != nil {
		t.Fatal(err)
	}
	if p.Count() != 1 || p.Asked[0].Kind != myna.SignPassword {
		t.Fatalf("asked %+v, want the signing password once", p.Asked)
	}
	check, err := c.CertificateCheck(mynakit.CertSign, cert, cert.NotBefore.AddDate(0, 1, 0))
	if err != nil || check.Result != trust.Pass {
		t.Fatalf("certificate check %+v, %v", check, err)
	}
	if _, _, err := c.SignDigest(context.Background(), crypto.SHA256, d[:5]); err == nil {
		t.Fatal("a short digest was signed")
	}
	if p.Count() != 1 {
		t.Fatal("a bad digest asked for the password")
	}
}
