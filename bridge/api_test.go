package bridge_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image/png"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/webeid"
)

func TestReadersNeedNoToken(t *testing.T) {
	e := start(t)
	for _, accept := range []string{"application/json", "application/cbor"} {
		r := e.do("GET", "/v1/readers", nil, map[string]string{"Accept": accept})
		if r.status != 200 {
			t.Fatalf("%s: %d %s", accept, r.status, r.body)
		}
		var v map[string]any
		if accept == "application/cbor" {
			if r.header.Get("Content-Type") != "application/cbor" {
				t.Fatalf("content type %q", r.header.Get("Content-Type"))
			}
			v = decodeCBOR(t, r.body)
		} else {
			v = decodeJSON(t, r.body)
		}
		rs := v["readers"].([]any)
		if len(rs) != 1 || rs[0].(map[string]any)["name"] != simReader || rs[0].(map[string]any)["card_present"] != true || rs[0].(map[string]any)["id"] != "0" {
			t.Fatalf("readers %v", v)
		}
	}
}

// The rules every request meets: the Host, the Origin, the token.
func TestHostOriginAndTokenRules(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	cases := []struct {
		name, method, path string
		headers            map[string]string
		want               int
	}{
		{"rebound host", "GET", "/v1/readers", map[string]string{"Host": "attacker.example:" + strings.Split(e.host, ":")[1]}, 403},
		{"rebound host, counter page", "GET", "/", map[string]string{"Host": "evil.example"}, 403},
		{"localhost is the bridge", "GET", "/v1/readers", map[string]string{"Host": "localhost:" + strings.Split(e.host, ":")[1]}, 200},
		{"disallowed origin", "GET", "/v1/readers", map[string]string{"Origin": otherOrigin}, 403},
		{"disallowed origin with a token", "GET", "/v1/readers/sim/card", map[string]string{"Origin": otherOrigin, "Authorization": "Bearer " + tok}, 403},
		{"null origin", "GET", "/v1/readers", map[string]string{"Origin": "null"}, 403},
		{"allowed origin without token: readers", "GET", "/v1/readers", map[string]string{"Origin": appOrigin}, 200},
		{"allowed origin without token: card", "GET", "/v1/readers/sim/card", map[string]string{"Origin": appOrigin}, 401},
		{"allowed origin without token: events", "GET", "/v1/events", map[string]string{"Origin": appOrigin}, 401},
		{"allowed origin without token: read", "POST", "/v1/readers/sim/read", map[string]string{"Origin": appOrigin}, 401},
		{"a local application's token from a web page", "GET", "/v1/readers/sim/card", map[string]string{"Origin": appOrigin, "Authorization": "Bearer " + e.appToken("billing")}, 401},
		{"the token without its origin", "GET", "/v1/readers/sim/card", map[string]string{"Authorization": "Bearer " + tok}, 401},
		{"a made-up token", "GET", "/v1/readers/sim/card", map[string]string{"Origin": appOrigin, "Authorization": "Bearer xyz"}, 401},
		{"not a bearer token", "GET", "/v1/readers/sim/card", map[string]string{"Origin": appOrigin, "Authorization": "Basic " + tok}, 401},
		{"cross-site POST without origin", "POST", "/v1/pair", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"cross-site image of the photo", "GET", "/v1/readers/sim/photo", map[string]string{"Sec-Fetch-Site": "cross-site"}, 401},
		{"preflight of a disallowed origin", "OPTIONS", "/v1/readers/sim/read", map[string]string{"Origin": otherOrigin, "Access-Control-Request-Method": "POST"}, 403},
		{"preflight of an allowed origin", "OPTIONS", "/v1/readers/sim/read", map[string]string{"Origin": appOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true"}, 204},
		{"with the token", "GET", "/v1/readers/sim/card", map[string]string{"Origin": appOrigin, "Authorization": "Bearer " + tok}, 200},
		{"consent answer from another origin", "POST", "/consent/x", map[string]string{"Origin": appOrigin, "Content-Type": "application/x-www-form-urlencoded"}, 403},
		{"unknown reader", "GET", "/v1/readers/nope/card", map[string]string{"Origin": appOrigin, "Authorization": "Bearer " + tok}, 404},
		{"photo with a bad code_b", "GET", "/v1/readers/sim/photo?code_b=maybe", map[string]string{"Origin": appOrigin, "Authorization": "Bearer " + tok}, 400},
		{"photo with an unknown parameter", "GET", "/v1/readers/sim/photo?size=big", map[string]string{"Origin": appOrigin, "Authorization": "Bearer " + tok}, 400},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, nil, c.headers)
		if r.status != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, r.status, c.want, r.body)
		}
		if c.want == 403 || c.want == 401 {
			if r.header.Get("Access-Control-Allow-Origin") == otherOrigin {
				t.Errorf("%s: CORS for a disallowed origin", c.name)
			}
		}
	}
	r := e.do("OPTIONS", "/v1/readers/sim/read", nil, map[string]string{"Origin": appOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true"})
	if r.header.Get("Access-Control-Allow-Origin") != appOrigin || r.header.Get("Access-Control-Allow-Private-Network") != "true" || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight headers %v", r.header)
	}
	// Every answer forbids caching, sniffing, framing and embedding.
	r = e.do("GET", "/v1/readers", nil, nil)
	for k, v := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "same-origin", "X-Frame-Options": "DENY"} {
		if r.header.Get(k) != v {
			t.Errorf("%s: %q", k, r.header.Get(k))
		}
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, a := range []string{"0.0.0.0:0", ":0", "192.0.2.1:7457", "[::]:0", "example.com:80"} {
		if ln, err := bridge.Listen(a); err == nil {
			ln.Close()
			t.Errorf("listened on %s", a)
		} else if !errors.Is(err, bridge.ErrNotLoopback) && a != ":0" {
			t.Errorf("%s: %v, want ErrNotLoopback", a, err)
		}
	}
	// The shared rule (internal/loopback): the name localhost in any case
	// is loopback, and is served on 127.0.0.1.
	ln, err := bridge.Listen("LocalHost:0")
	if err != nil {
		t.Fatalf("LocalHost: %v", err)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); host != "127.0.0.1" {
		t.Errorf("localhost listened on %s", ln.Addr())
	}
	ln.Close()
	if _, err := bridge.New(bridge.Options{Addr: "0.0.0.0:7457", Backend: bridge.NewLocalReaders(), Log: &accesslog.Log{}}); err == nil {
		t.Error("New accepted a non-loopback address")
	}
}

// Pairing: the holder allows the origin on the consent page; the origin
// collects its token once.
func TestPairingThroughTheConsentPage(t *testing.T) {
	e := start(t)
	r := e.do("POST", "/v1/pair", nil, map[string]string{"Origin": appOrigin})
	if r.status != 202 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	v := decodeJSON(t, r.body)
	id := v["id"].(string)
	if !strings.HasPrefix(v["consent_url"].(string), e.url+"/consent/") || v["state"] != "consent" {
		t.Fatalf("%v", v)
	}
	page := e.consentPage(id)
	if !strings.Contains(page, appOrigin) {
		t.Fatalf("the consent page does not say who asks:\n%s", page)
	}
	// Another origin cannot see the operation, nor answer for the holder.
	if r := e.do("GET", "/v1/operations/"+id, nil, map[string]string{"Origin": otherOrigin}); r.status != 403 {
		t.Fatalf("other origin: %d", r.status)
	}
	if r := e.do("POST", "/consent/"+id, []byte("choice=allow"), map[string]string{"Origin": appOrigin, "Content-Type": "application/x-www-form-urlencoded"}); r.status != 403 {
		t.Fatalf("the app answered its own consent: %d", r.status)
	}
	if a := e.answer(id, url.Values{}); a.status != 200 || !strings.Contains(string(a.body), "完了") {
		t.Fatalf("approve: %d %s", a.status, a.body)
	}
	v = e.op(id, map[string]string{"Origin": appOrigin}, finished)
	tok, _ := v["token"].(string)
	if v["state"] != "done" || tok == "" {
		t.Fatalf("%v", v)
	}
	v = e.op(id, map[string]string{"Origin": appOrigin}, finished)
	if v["token"] != nil || v["token_collected"] != true {
		t.Fatalf("the token was handed out twice: %v", v)
	}
	if r := e.do("GET", "/v1/readers/sim/card", nil, app(tok)); r.status != 200 {
		t.Fatalf("with the token: %d %s", r.status, r.body)
	}
	// A declined pairing gives nothing.
	r = e.do("POST", "/v1/pair", nil, map[string]string{"Origin": appOrigin})
	id = decodeJSON(t, r.body)["id"].(string)
	e.answer(id, url.Values{"choice": {"deny"}})
	v = e.op(id, map[string]string{"Origin": appOrigin}, finished)
	if v["state"] != "failed" || v["token"] != nil {
		t.Fatalf("declined: %v", v)
	}
	// The first token still works: a declined pairing revokes nothing.
	if r := e.do("GET", "/v1/readers/sim/card", nil, app(tok)); r.status != 200 {
		t.Fatalf("after a declined pairing: %d", r.status)
	}
}

// The consent flow end to end: a read answers 202, the holder types the
// PIN on the consent page, and the result is exactly the Report's JSON.
func TestReadThroughTheConsentPage(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	evs := e.events(app(tok))
	r := e.do("POST", "/v1/readers/sim/read", []byte(`{"photo":true}`), app(tok))
	if r.status != 202 {
		t.Fatalf("read: %d %s", r.status, r.body)
	}
	v := decodeJSON(t, r.body)
	id := v["id"].(string)
	sec := v["secret"].(map[string]any)
	if v["state"] != "consent" || sec["kind"] != "pin" || sec["remaining"] != 3.0 || r.header.Get("Location") != "/v1/operations/"+id {
		t.Fatalf("202: %v %v", v, r.header)
	}
	page := e.consentPage(id)
	for _, want := range []string{appOrigin, "暗証番号", "残り3回", "氏名"} {
		if !strings.Contains(page, want) {
			t.Errorf("the consent page lacks %q", want)
		}
	}
	// A wrong form is refused on the page, without spending a try.
	if a := e.answer(id, url.Values{"pin": {"12"}}); a.status != 200 || !strings.Contains(string(a.body), "形式") {
		t.Fatalf("short PIN: %d %s", a.status, a.body)
	}
	a := e.answer(id, url.Values{"pin": {simtest.PIN}})
	if a.status != 200 || !strings.Contains(string(a.body), "完了") || strings.Contains(string(a.body), simtest.PIN+"\"") {
		t.Fatalf("answer: %d %s", a.status, a.body)
	}
	done := e.op(id, app(tok), finished)
	if done["state"] != "done" {
		t.Fatalf("%v", done)
	}
	res := e.do("GET", "/v1/operations/"+id+"/result", nil, app(tok))
	if res.status != 200 {
		t.Fatalf("result: %d %s", res.status, res.body)
	}
	// Exactly the library's JSON for the same read.
	// (Its traffic counts depend on what the session did before, so they
	// are left out of the comparison.)
	c := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN)})
	lib, err := c.Read(context.Background(), mynakit.ReadOptions{Photo: true})
	if err != nil {
		t.Fatal(err)
	}
	lib.Reader = simReader
	want, _ := lib.MarshalJSON()
	if !sameJSON(t, res.body, want) {
		t.Fatalf("result differs from the library's report:\n%s\n%s", res.body, want)
	}
	got := decodeJSON(t, res.body)
	if got["verification"].(map[string]any)["verdict"] != "genuine" || got["text"].(map[string]any)["name"] != "黒桐　幹也" {
		t.Fatalf("%v", got)
	}
	// GET /v1/operations/{id} carries the same report.
	if !sameJSON(t, mustMarshal(done["result"]), want) {
		t.Fatal("the operation's result is not the report")
	}
	// The facts came on the stream, text before surface, with the photo.
	facts := evs.until(t, func(ev sse) bool { return ev.name == "facts" && ev.data["part"] == "surface" })
	var parts []string
	for _, ev := range facts {
		if ev.name == "facts" {
			parts = append(parts, ev.data["part"].(string))
		}
	}
	if len(parts) < 2 || parts[0] != "text" {
		t.Fatalf("facts in order %v", parts)
	}
	photoURL, _ := facts[len(facts)-1].data["photo_url"].(string)
	if photoURL != "/v1/operations/"+id+"/photo" {
		t.Fatalf("photo url %q", photoURL)
	}
	p := e.do("GET", photoURL, nil, app(tok))
	if p.status != 200 || p.header.Get("Content-Type") != "image/png" {
		t.Fatalf("photo: %d %s", p.status, p.header)
	}
	if _, err := png.Decode(bytes.NewReader(p.body)); err != nil {
		t.Fatal(err)
	}
	// Another paired origin sees neither the operation nor its facts.
	for _, ev := range facts {
		if ev.name == "facts" && ev.data["operation"] != id {
			t.Fatalf("foreign facts %v", ev)
		}
	}
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sameJSON compares two reports' JSON as data, traffic counts aside.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y map[string]any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]any{x, y} {
		if _, ok := m["traffic"].(map[string]any); !ok {
			t.Fatalf("no traffic member: %v", m)
		}
		delete(m, "traffic")
	}
	return reflect.DeepEqual(x, y)
}

// The authenticate flow: the Web eID token's signature verifies with the
// authentication certificate's key over hash(origin) ‖ hash(nonce), and the
// certificate chains to the anchor.
func TestAuthenticate(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	nonce := newNonce(32)
	token, page := e.webeidToken(tok, nonce)
	sum := sha256.Sum256(webeid.SignedValue(crypto.SHA256, appOrigin, nonce))
	if !strings.Contains(page, hexString(sum[:])) || !strings.Contains(page, "利用者証明用") {
		t.Fatalf("the consent page does not show the key and the digest signed:\n%s", page)
	}
	der, _ := base64.StdEncoding.DecodeString(token.UnverifiedCertificate)
	sig, _ := base64.StdEncoding.DecodeString(token.Signature)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the signature does not verify with the certificate's key: %v", err)
	}
	roots := x509.NewCertPool()
	pemRoots, err := fs.ReadFile(simulator.TestData(), "trust/sim-roots.pem")
	if err != nil || !roots.AppendCertsFromPEM(pemRoots) {
		t.Fatal("sim roots", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("the certificate does not chain to the anchor: %v", err)
	}
	if token.Algorithm != webeid.RS256 || cert.Subject.String() == "" {
		t.Fatalf("%+v", token)
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestSignDigestAndDocument(t *testing.T) {
	e := start(t, withOptions(func(o *bridge.Options) { o.DigestSigners = []string{appOrigin} }))
	tok := e.pair(appOrigin)
	d := sha256.Sum256([]byte("contract text"))
	r := e.do("POST", "/v1/readers/sim/sign", mustMarshal(map[string]any{"digest": d[:]}), app(tok))
	id := decodeJSON(t, r.body)["id"].(string)
	if page := e.consentPage(id); !strings.Contains(page, hexString(d[:])) || !strings.Contains(page, "署名用パスワード") {
		t.Fatalf("consent page:\n%s", page)
	}
	e.answer(id, url.Values{"password": {simtest.SignPassword}})
	e.op(id, app(tok), finished)
	res := e.do("GET", "/v1/operations/"+id+"/result", nil, app(tok))
	var out struct {
		Signature, Certificate, CMS []byte
	}
	if err := json.Unmarshal(res.body, &out); err != nil || res.status != 200 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	cert, _ := x509.ParseCertificate(out.Certificate)
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, d[:], out.Signature); err != nil {
		t.Fatal(err)
	}
	// A document as raw bytes: a detached CMS over it.
	doc := []byte("契約書 contract body")
	r = e.do("POST", "/v1/readers/sim/sign", doc, app(tok, "Content-Type", "application/octet-stream"))
	id = decodeJSON(t, r.body)["id"].(string)
	e.answer(id, url.Values{"password": {simtest.SignPassword}})
	e.op(id, app(tok), finished)
	res = e.do("GET", "/v1/operations/"+id+"/result", nil, app(tok))
	if err := json.Unmarshal(res.body, &out); err != nil || len(out.CMS) == 0 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	rep, err := mynakit.VerifySignature(doc, out.CMS, mynakit.SignatureOptions{TestAnchors: e.sim})
	if err != nil || rep.Checks == nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.Result != "pass" {
			t.Fatalf("CMS check %+v", c)
		}
	}
	// Bad requests never reach the card.
	for _, bad := range []string{`{}`, `{"digest":"AAAA"}`, `{"digest":"` + base64.StdEncoding.EncodeToString(d[:]) + `","document":"AA=="}`, `{"hash":"md5","digest":"AAAA"}`, `{"nope":1}`} {
		if r := e.do("POST", "/v1/readers/sim/sign", []byte(bad), app(tok)); r.status != 400 {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
}

// events is an open event stream.
type sse struct {
	name string
	data map[string]any
}

type stream struct {
	ch   chan sse
	stop context.CancelFunc
}

func (e *env) events(headers map[string]string) *stream {
	e.t.Helper()
	return e.openStream("/v1/events", headers)
}

func (e *env) openStream(path string, headers map[string]string) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+path, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		e.t.Fatalf("events: %v %v", err, resp)
	}
	s := &stream{ch: make(chan sse, 1024), stop: cancel}
	go func() {
		defer resp.Body.Close()
		defer close(s.ch)
		readSSE(resp.Body, func(name string, data []byte) {
			var v map[string]any
			_ = json.Unmarshal(data, &v)
			s.ch <- sse{name, v}
		})
	}()
	e.t.Cleanup(cancel)
	return s
}

// until collects events until stop says so.
func (s *stream) until(t testing.TB, stop func(sse) bool) []sse {
	t.Helper()
	var out []sse
	timeout := timer(t)
	for {
		select {
		case ev, ok := <-s.ch:
			if !ok {
				t.Fatalf("stream ended after %v", out)
			}
			out = append(out, ev)
			if stop(ev) {
				return out
			}
		case <-timeout:
			t.Fatalf("no such event; got %v", out)
		}
	}
}

var _ = accesslog.Begin
