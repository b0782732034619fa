package webeid_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/trust"
	"github.com/mynakit/mynakit/webeid"
)

const originA = "https://portal.example.jp"

// fixture opens the default simulated card and a validator for originA
// that trusts the simulator's test anchors.
// The card's prompter answers the PIN, then the signing password, unless
// answers are given.
func fixture(t *testing.T, answers ...string) (*mynakit.Card, *webeid.Validator, *webeid.MemoryNonces) {
	t.Helper()
	if len(answers) == 0 {
		answers = []string{simtest.PIN, simtest.SignPassword}
	}
	card := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{Prompter: simtest.NewPrompter(answers...)})
	nonces := webeid.NewMemoryNonces(time.Minute)
	v := &webeid.Validator{Origin: originA, Trust: simtest.Store(t), Nonces: nonces, AllowTestAnchors: true}
	return card, v, nonces
}

func TestTokenForOriginValidatesThereOnly(t *testing.T) {
	ctx := context.Background()
	card, v, _ := fixture(t)
	nonce, err := v.IssueNonce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := webeid.Authenticate(ctx, card, originA, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Format != "web-eid:1.0" || tok.Algorithm != webeid.RS256 || tok.AppVersion == "" {
		t.Fatalf("token fields: %+v", tok)
	}
	// The wire form has exactly the Web eID field names.
	raw, _ := json.Marshal(tok)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format", "unverifiedCertificate", "algorithm", "signature", "appVersion"} {
		if _, ok := m[k]; !ok {
			t.Errorf("token JSON lacks %q: %s", k, raw)
		}
	}
	if len(m) != 5 {
		t.Errorf("token JSON has %d fields, want 5: %s", len(m), raw)
	}
	parsed, err := webeid.ParseToken(raw)
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Validate(ctx, parsed, nonce)
	if err != nil {
		t.Fatalf("token for A does not validate for A: %v", err)
	}
	if id.Revocation != webeid.RevocationNotChecked {
		t.Errorf("revocation = %q with no checker, want %q", id.Revocation, webeid.RevocationNotChecked)
	}
	if id.Production || id.Anchor == "" || id.SerialNumber == nil || id.Origin != originA {
		t.Errorf("identity: %+v", id)
	}

	// The same token presented to origin B fails on the signature, even
	// with a nonce B issued.
	vB := &webeid.Validator{Origin: "https://other.example.jp", Trust: v.Trust, Nonces: v.Nonces, AllowTestAnchors: true}
	nonceB, _ := vB.IssueNonce(ctx)
	tokB := *tok
	if _, err := vB.Validate(ctx, &tokB, nonceB); !errors.Is(err, webeid.ErrSignature) {
		t.Fatalf("token for A at B: %v, want ErrSignature", err)
	}
	// A token made for B's nonce, but at origin A, fails at B too.
	nonceB2, _ := vB.IssueNonce(ctx)
	tokA2, err := webeid.Authenticate(ctx, card, originA, nonceB2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vB.Validate(ctx, tokA2, nonceB2); !errors.Is(err, webeid.ErrSignature) {
		t.Fatalf("forwarded challenge: %v, want ErrSignature", err)
	}
}

func TestNonceIsSingleUseAndExpires(t *testing.T) {
	ctx := context.Background()
	card, v, nonces := fixture(t)
	nonce, _ := v.IssueNonce(ctx)
	tok, err := webeid.Authenticate(ctx, card, originA, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(ctx, tok, nonce); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(ctx, tok, nonce); !errors.Is(err, webeid.ErrNonceUnknown) {
		t.Fatalf("reused nonce: %v, want ErrNonceUnknown", err)
	}
	// A nonce the server never issued.
	fake := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tok2, err := webeid.Authenticate(ctx, card, originA, fake)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(ctx, tok2, fake); !errors.Is(err, webeid.ErrNonceUnknown) {
		t.Fatalf("unissued nonce: %v, want ErrNonceUnknown", err)
	}
	// Expiry.
	now := time.Now()
	nonces.SetClock(func() time.Time { return now })
	old, _ := v.IssueNonce(ctx)
	tok3, err := webeid.Authenticate(ctx, card, originA, old)
	if err != nil {
		t.Fatal(err)
	}
	nonces.SetClock(func() time.Time { return now.Add(2 * time.Minute) })
	if _, err := v.Validate(ctx, tok3, old); !errors.Is(err, webeid.ErrNonceExpired) {
		t.Fatalf("expired nonce: %v, want ErrNonceExpired", err)
	}
}

// signingToken makes a well-formed token whose signature is made by the
// signing key over the right value, with the signing certificate: a site
// that got hold of a signing-key signature must not log in with it.
func signingToken(t *testing.T, card *mynakit.Card, origin, nonce string) *webeid.Token {
	t.Helper()
	digest := sha256.Sum256(webeid.SignedValue(crypto.SHA256, origin, nonce))
	sig, cert, err := card.SignDigest(context.Background(), crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return &webeid.Token{
		Format: webeid.Format, Algorithm: webeid.RS256, AppVersion: webeid.AppVersion,
		UnverifiedCertificate: base64.StdEncoding.EncodeToString(cert.Raw),
		Signature:             base64.StdEncoding.EncodeToString(sig),
	}
}

func TestWrongCertificatesFail(t *testing.T) {
	ctx := context.Background()
	card, v, _ := fixture(t, simtest.SignPassword, simtest.PIN)

	nonce, _ := v.IssueNonce(ctx)
	if _, err := v.Validate(ctx, signingToken(t, card, originA, nonce), nonce); !errors.Is(err, webeid.ErrCertificate) {
		t.Fatalf("signing certificate: %v, want ErrCertificate", err)
	}

	// Only the production anchors: the simulator's certificate chains to
	// none of them.
	prod := &webeid.Validator{Origin: originA, Trust: trust.Embedded(), Nonces: v.Nonces, AllowTestAnchors: true}
	nonce, _ = prod.IssueNonce(ctx)
	tok, err := webeid.Authenticate(ctx, card, originA, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prod.Validate(ctx, tok, nonce); !errors.Is(err, webeid.ErrCertificate) {
		t.Fatalf("wrong anchors: %v, want ErrCertificate", err)
	}

	// Test anchors are refused unless allowed.
	strict := &webeid.Validator{Origin: originA, Trust: v.Trust, Nonces: v.Nonces}
	nonce, _ = strict.IssueNonce(ctx)
	tok, err = webeid.Authenticate(ctx, card, originA, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Validate(ctx, tok, nonce); !errors.Is(err, webeid.ErrCertificate) || !strings.Contains(err.Error(), "test anchor") {
		t.Fatalf("test anchor in production: %v", err)
	}
}

func TestRevocationCheckerDecides(t *testing.T) {
	ctx := context.Background()
	card, v, _ := fixture(t)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"good", nil, nil},
		{"revoked", webeid.ErrRevoked, webeid.ErrRevoked},
		{"unreachable", errors.New("ocsp: connection refused"), webeid.ErrCertificate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v.Revocation = revocationFunc(func(context.Context) error { return tc.err })
			nonce, _ := v.IssueNonce(ctx)
			tok, err := webeid.Authenticate(ctx, card, originA, nonce)
			if err != nil {
				t.Fatal(err)
			}
			id, err := v.Validate(ctx, tok, nonce)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == nil && id.Revocation != webeid.RevocationGood {
				t.Fatalf("revocation = %q", id.Revocation)
			}
		})
	}
}

func TestClientRefusesShortNoncesAndBadOrigins(t *testing.T) {
	card, _, _ := fixture(t)
	ctx := context.Background()
	short := base64.StdEncoding.EncodeToString(make([]byte, 31))
	if _, err := webeid.Authenticate(ctx, card, originA, short); !errors.Is(err, webeid.ErrNonce) {
		t.Fatalf("248-bit nonce: %v, want ErrNonce", err)
	}
	if _, err := webeid.Authenticate(ctx, card, originA, "not base64 at all, but long enough to pass a length check"); !errors.Is(err, webeid.ErrNonce) {
		t.Fatalf("non-base64 nonce: %v", err)
	}
	nonce := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, o := range []string{"http://portal.example.jp", "https://portal.example.jp/login", "https://user@portal.example.jp", "portal.example.jp", "file:///etc/passwd", "https://portal.example.jp/", "javascript:alert(1)"} {
		if _, err := webeid.Authenticate(ctx, card, o, nonce); !errors.Is(err, webeid.ErrOrigin) {
			t.Errorf("origin %q: %v, want ErrOrigin", o, err)
		}
	}
}

func TestCanonicalOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://Portal.Example.JP":      "https://portal.example.jp",
		"https://portal.example.jp:443":  "https://portal.example.jp",
		"https://portal.example.jp:8443": "https://portal.example.jp:8443",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"http://localhost":               "http://localhost",
		"http://[::1]:9000":              "http://[::1]:9000",
	} {
		got, err := webeid.CanonicalOrigin(in)
		if err != nil || got != want {
			t.Errorf("CanonicalOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

type revocationFunc func(context.Context) error

func (f revocationFunc) CheckRevocation(ctx context.Context, _ *x509.Certificate, _ time.Time) error {
	return f(ctx)
}

// TestIndependentVerifierAgrees checks a token with a verifier written in
// JavaScript from the published format (testdata/verify-token.mjs, run by
// Node.js), so the format is not only consistent with itself.
func TestIndependentVerifierAgrees(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is needed for the independent token check")
		}
		t.Skip("node not installed")
	}
	ctx := context.Background()
	card, _, _ := fixture(t)
	nonce := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	tok, err := webeid.Authenticate(ctx, card, originA, nonce)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(tok)
	file := filepath.Join(t.TempDir(), "token.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(origin string) error {
		out, err := exec.Command(node, "testdata/verify-token.mjs", file, origin, nonce).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	if err := run(originA); err != nil {
		t.Fatalf("independent verifier rejects a good token: %v", err)
	}
	if err := run("https://other.example.jp"); err == nil {
		t.Fatal("independent verifier accepts the token for another origin")
	}
}
