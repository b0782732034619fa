package bridge_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/trust"
	"github.com/mynakit/mynakit/webeid"
)

// anyNonce accepts every nonce: it lets a second validator judge the same
// token on its origin alone.
type anyNonce struct{}

func (anyNonce) Issue(context.Context) (string, error) { return newNonce(32), nil }
func (anyNonce) Consume(context.Context, string) error { return nil }

func newNonce(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// webeidToken has the bridge make a token for nonce as origin's paired
// page, through the consent page (whose text is returned too).
func (e *env) webeidToken(tok, nonce string) (*webeid.Token, string) {
	e.t.Helper()
	r := e.do("POST", "/v1/readers/sim/authenticate", mustMarshal(map[string]any{"challengeNonce": nonce}), app(tok))
	if r.status != 202 {
		e.t.Fatalf("authenticate: %d %s", r.status, r.body)
	}
	id := decodeJSON(e.t, r.body)["id"].(string)
	page := e.consentPage(id)
	if a := e.answer(id, url.Values{"pin": {simtest.PIN}}); a.status != 200 {
		e.t.Fatalf("answer: %d %s", a.status, a.body)
	}
	if v := e.op(id, app(tok), finished); v["state"] != "done" {
		e.t.Fatalf("authenticate: %v", v)
	}
	res := e.do("GET", "/v1/operations/"+id+"/result", nil, app(tok))
	if res.status != 200 {
		e.t.Fatalf("result: %d %s", res.status, res.body)
	}
	t, err := webeid.ParseToken(res.body)
	if err != nil {
		e.t.Fatal(err)
	}
	return t, page
}

// A token the bridge issues for the calling page's origin validates there,
// and nowhere else: not at another origin, not twice. The consent page
// says which origin logs in.
func TestAuthenticateWebEIDTokenBindsTheCallersOrigin(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	store := webeid.NewMemoryNonces(0)
	vA := &webeid.Validator{Origin: appOrigin, Trust: simtest.Store(t), Nonces: store, AllowTestAnchors: true}
	nonce, err := vA.IssueNonce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	token, page := e.webeidToken(tok, nonce)
	if !strings.Contains(page, appOrigin+" にログインします") || !strings.Contains(page, "ログイン先: "+appOrigin) || !strings.Contains(page, "利用者証明用") {
		t.Fatalf("the consent page does not say which origin logs in:\n%s", page)
	}
	if token.Format != webeid.Format || token.Algorithm != webeid.RS256 || token.AppVersion == "" {
		t.Fatalf("token %+v", token)
	}
	// Another site that forwarded this challenge gets nothing it can use.
	vB := &webeid.Validator{Origin: otherOrigin, Trust: vA.Trust, Nonces: anyNonce{}, AllowTestAnchors: true}
	if _, err := vB.Validate(context.Background(), token, nonce); !errors.Is(err, webeid.ErrSignature) {
		t.Fatalf("validated for another origin: %v", err)
	}
	id, err := vA.Validate(context.Background(), token, nonce)
	if err != nil {
		t.Fatalf("the bridge's token does not validate for its caller's origin: %v", err)
	}
	if id.Origin != appOrigin || id.Production || id.Revocation != webeid.RevocationNotChecked || id.SerialNumber == nil {
		t.Fatalf("identity %+v", id)
	}
	if _, err := vA.Validate(context.Background(), token, nonce); !errors.Is(err, webeid.ErrNonceUnknown) {
		t.Fatalf("a reused nonce: %v", err)
	}
	// The signature is over hash(origin) ‖ hash(nonce), checked here by
	// hand as well.
	der, _ := base64.StdEncoding.DecodeString(token.UnverifiedCertificate)
	sig, _ := base64.StdEncoding.DecodeString(token.Signature)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(webeid.SignedValue(crypto.SHA256, appOrigin, nonce))
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(mustMarshal(token), []byte(simtest.PIN+`"`)) {
		t.Fatal("the PIN is in the token")
	}
}

// Nonces under 256 bits, non-base64 nonces, the old challenge body and an
// origin in the body are refused before the card or the holder is asked.
func TestAuthenticateRefusesBadRequests(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	for name, body := range map[string]any{
		"short nonce":      map[string]any{"challengeNonce": newNonce(31)},
		"not base64":       map[string]any{"challengeNonce": strings.Repeat("!", 44)},
		"empty":            map[string]any{"challengeNonce": ""},
		"old shape":        map[string]any{"challenge": []byte("c")},
		"origin from body": map[string]any{"challengeNonce": newNonce(32), "origin": otherOrigin},
	} {
		r := e.do("POST", "/v1/readers/sim/authenticate", mustMarshal(body), app(tok))
		if r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := e.do("POST", "/v1/readers/sim/authenticate", mustMarshal(map[string]any{"challengeNonce": newNonce(31)}), app(tok)); decodeJSON(t, r.body)["error"].(map[string]any)["code"] != "bad-nonce" {
		t.Errorf("short nonce: %s", r.body)
	}
	// A local application has no origin the bridge could vouch for.
	r := e.do("POST", "/v1/readers/sim/authenticate", mustMarshal(map[string]any{"challengeNonce": newNonce(32)}), local(e.appToken("desk")))
	if r.status != 403 || decodeJSON(t, r.body)["error"].(map[string]any)["code"] != "no-origin" {
		t.Errorf("a local application: %d %s", r.status, r.body)
	}
	// An unpaired page gets nothing.
	r = e.do("POST", "/v1/readers/sim/authenticate", mustMarshal(map[string]any{"challengeNonce": newNonce(32)}), map[string]string{"Origin": appOrigin})
	if r.status != 401 {
		t.Errorf("unpaired: %d %s", r.status, r.body)
	}
}

// authenticate signs with the authentication key only and sign with the
// signing key only: the token carries the authentication certificate, a
// digest signature the signing certificate, and a token made to look as if
// the signing key had signed fails validation.
func TestAuthenticateAndSignUseTheirOwnKeys(t *testing.T) {
	e := start(t, withTerminal(), withOptions(func(o *bridge.Options) { o.DigestSigners = []string{appOrigin} }))
	tok := e.pair(appOrigin)
	v := &webeid.Validator{Origin: appOrigin, Trust: simtest.Store(t), Nonces: anyNonce{}, AllowTestAnchors: true}
	nonce := newNonce(32)
	h := app(tok)
	r := e.follow(e.do("POST", "/v1/readers/sim/authenticate", mustMarshal(map[string]any{"challengeNonce": nonce}), h), h)
	if r.status != 200 {
		t.Fatalf("authenticate: %d %s", r.status, r.body)
	}
	token, err := webeid.ParseToken(r.body)
	if err != nil {
		t.Fatal(err)
	}
	authDER, _ := base64.StdEncoding.DecodeString(token.UnverifiedCertificate)
	authCert, err := x509.ParseCertificate(authDER)
	if err != nil {
		t.Fatal(err)
	}
	if authCert.KeyUsage&x509.KeyUsageContentCommitment != 0 {
		t.Fatal("the token carries a signing certificate")
	}
	// The signing key signs a digest: its certificate has
	// nonRepudiation and is not the authentication certificate.
	sum := sha256.Sum256(webeid.SignedValue(crypto.SHA256, appOrigin, nonce))
	r = e.follow(e.do("POST", "/v1/readers/sim/sign", mustMarshal(map[string]any{"digest": sum[:]}), h), h)
	if r.status != 200 {
		t.Fatalf("sign: %d %s", r.status, r.body)
	}
	var out struct {
		Signature   []byte `json:"signature"`
		Certificate []byte `json:"certificate"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	signCert, err := x509.ParseCertificate(out.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(signCert.Raw, authCert.Raw) || signCert.KeyUsage&x509.KeyUsageContentCommitment == 0 {
		t.Fatal("sign did not use the signing key's certificate")
	}
	if err := rsa.VerifyPKCS1v15(signCert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], out.Signature); err != nil {
		t.Fatalf("the digest signature is not the signing key's: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(authCert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], out.Signature); err == nil {
		t.Fatal("sign used the authentication key")
	}
	// The signing key's signature over the same value, presented as a
	// token with the signing certificate, is not a login.
	forged := *token
	forged.UnverifiedCertificate = base64.StdEncoding.EncodeToString(signCert.Raw)
	forged.Signature = base64.StdEncoding.EncodeToString(out.Signature)
	if _, err := v.Validate(context.Background(), &forged, nonce); !errors.Is(err, webeid.ErrCertificate) {
		t.Fatalf("a token from the signing key: %v", err)
	}
	if _, err := v.Validate(context.Background(), token, nonce); err != nil {
		t.Fatalf("the real token: %v", err)
	}
}

// The JavaScript client is served by the bridge and exported for relying
// parties to serve from their own origin.
func TestWebEIDClientIsServed(t *testing.T) {
	e := start(t)
	r := e.do("GET", "/static/webeid.js", nil, nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") || !bytes.Equal(r.body, bridge.WebEIDClient()) {
		t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
	}
	for _, want := range []string{"MynakitWebEid", "authenticate(challengeNonce, opts)", "getSigningCertificate(opts)", "sign(certificate, hash, hashFunction, opts)",
		"ERR_WEBEID_NATIVE_UNAVAILABLE", "ERR_MYNAKIT_LNA_DENIED", "ERR_WEBEID_USER_CANCELLED", "ERR_MYNAKIT_NO_CARD", "ERR_MYNAKIT_PIN_BLOCKED", "loopback-network"} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("the client lacks %q", want)
		}
	}
}

// The OpenAPI document describes the Web eID request and token.
func TestAuthenticateIsDocumentedAsWebEID(t *testing.T) {
	e := start(t)
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(e.do("GET", "/v1/openapi.json", nil, nil).body, &doc); err != nil {
		t.Fatal(err)
	}
	req := doc.Components.Schemas["AuthenticateRequest"]
	if len(req.Required) != 1 || req.Required[0] != "challengeNonce" || len(req.Properties) != 1 {
		t.Fatalf("AuthenticateRequest: %+v", req)
	}
	tok := doc.Components.Schemas["WebEIDToken"]
	for _, f := range []string{"format", "unverifiedCertificate", "algorithm", "signature", "appVersion"} {
		if _, ok := tok.Properties[f]; !ok {
			t.Errorf("WebEIDToken lacks %s", f)
		}
	}
	op := string(doc.Paths["/v1/readers/{reader}/authenticate"]["post"])
	if !strings.Contains(op, `"#/components/schemas/WebEIDToken"`) || !strings.Contains(op, "origin") {
		t.Fatalf("authenticate: %s", op)
	}
}

// BenchmarkWebEIDAuthenticate measures one login through the bridge with
// the simulator: the request, the PIN (a terminal prompter), the card's
// signature and the token, then its validation.
func BenchmarkWebEIDAuthenticate(b *testing.B) {
	e := start(b, withTerminal())
	tok := e.pair(appOrigin)
	store := simtest.Store(b)
	h := app(tok)
	for b.Loop() {
		v := &webeid.Validator{Origin: appOrigin, Trust: store, Nonces: anyNonce{}, AllowTestAnchors: true}
		nonce := newNonce(32)
		r := e.follow(e.do("POST", "/v1/readers/sim/authenticate", mustMarshal(map[string]any{"challengeNonce": nonce}), h), h)
		token, err := webeid.ParseToken(r.body)
		if err != nil || r.status != 200 {
			b.Fatalf("%d %s", r.status, r.body)
		}
		if _, err := v.Validate(context.Background(), token, nonce); err != nil {
			b.Fatal(err)
		}
	}
}

// The bridge's token fails when its nonce expired, and under anchors it
// does not chain to (J-LIS's production roots only).
func TestAuthenticateWebEIDTokenExpiresAndNeedsItsAnchor(t *testing.T) {
	e := start(t, withTerminal())
	tok := e.pair(appOrigin)
	now := time.Now()
	store := webeid.NewMemoryNonces(5 * time.Minute)
	store.SetClock(func() time.Time { return now })
	v := &webeid.Validator{Origin: appOrigin, Trust: simtest.Store(t), Nonces: store, AllowTestAnchors: true}
	token := func(nonce string) *webeid.Token {
		h := app(tok)
		r := e.follow(e.do("POST", "/v1/readers/sim/authenticate", mustMarshal(map[string]any{"challengeNonce": nonce}), h), h)
		tk, err := webeid.ParseToken(r.body)
		if err != nil || r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return tk
	}
	nonce, _ := v.IssueNonce(context.Background())
	tk := token(nonce)
	now = now.Add(6 * time.Minute)
	if _, err := v.Validate(context.Background(), tk, nonce); !errors.Is(err, webeid.ErrNonceExpired) {
		t.Fatalf("an expired nonce: %v", err)
	}
	nonce, _ = v.IssueNonce(context.Background())
	tk = token(nonce)
	prod := &webeid.Validator{Origin: appOrigin, Trust: trust.Embedded(), Nonces: store, AllowTestAnchors: true}
	if _, err := prod.Validate(context.Background(), tk, nonce); !errors.Is(err, webeid.ErrCertificate) {
		t.Fatalf("the wrong anchor: %v", err)
	}
}
