package webeid

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/mynakit/mynakit/trust"
)

// FuzzValidate feeds hostile token JSON, nonces and origins to the
// relying party's parser and validator: nothing may panic, and nothing but
// a nonce the store issued can get past the nonce check.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"format":"web-eid:1.0","unverifiedCertificate":"MIIB","algorithm":"RS256","signature":"AA==","appVersion":"x"}`), "https://portal.example.jp")
	f.Add([]byte(`{"format":"web-eid:1.0","algorithm":"ES512","signature":"","unverifiedCertificate":""}`), "http://[::1]:1")
	f.Add([]byte(`null`), "https://a")
	f.Add([]byte(`{"algorithm":{"x":1}}`), "")
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		f.Fatal(err)
	}
	store := trust.Embedded()
	f.Fuzz(func(t *testing.T, raw []byte, origin string) {
		_, _ = CanonicalOrigin(origin)
		_ = CheckNonce(origin)
		tok, err := ParseToken(raw)
		if err != nil {
			return
		}
		if tok.UnverifiedCertificate == "" {
			tok.UnverifiedCertificate = encodeB64(der)
		}
		v := &Validator{Origin: "https://portal.example.jp", Trust: store, AllowTestAnchors: true}
		ctx := context.Background()
		nonce, err := v.IssueNonce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Validate(ctx, tok, nonce); err == nil {
			t.Fatalf("a fuzzed token validated: %s", raw)
		}
		if _, err := v.Validate(ctx, tok, nonce); err == nil {
			t.Fatal("a consumed nonce was accepted")
		}
	})
}

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
