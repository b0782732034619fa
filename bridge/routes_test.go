package bridge_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/oqs/oqssim"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/webeid"
)

// follow answers a route's result: directly (200), or after its operation
// (202, answered by the scripted consenter) finished.
func (e *env) follow(r response, headers map[string]string) response {
	e.t.Helper()
	if r.status != http.StatusAccepted {
		return r
	}
	var id string
	if strings.HasPrefix(r.header.Get("Content-Type"), "application/cbor") {
		id = decodeCBOR(e.t, r.body)["id"].(string)
	} else {
		id = decodeJSON(e.t, r.body)["id"].(string)
	}
	plain := map[string]string{}
	for k, v := range headers {
		if k != "Accept" {
			plain[k] = v
		}
	}
	e.op(id, plain, finished)
	return e.do("GET", "/v1/operations/"+id+"/result", nil, headers)
}

// Every route answers, in JSON and in CBOR with the same data.
func TestEveryRouteInJSONAndCBOR(t *testing.T) {
	root := t.TempDir()
	term, err := oqssim.New(oqssim.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go term.Run(ctx)
	e := start(t, withTerminal(),
		withOptions(func(o *bridge.Options) {
			o.Clinic = &bridge.ClinicOptions{Root: root, MedicalInstitutionCode: "1312345678", StateDir: filepath.Join(t.TempDir(), "state"), ScanInterval: 20 * time.Millisecond, ConfirmTimeout: 20 * time.Second}
			o.DigestSigners = []string{appOrigin}
		}))
	tok := e.pair(appOrigin, `{"clinic":true}`)
	d := sha256.Sum256([]byte("x"))
	type call struct {
		method, path string
		body         []byte
		png          bool
	}
	calls := []call{
		{"GET", "/v1/readers", nil, false},
		{"GET", "/v1/readers/sim/card", nil, false},
		{"GET", "/v1/readers/0/card", nil, false},
		{"POST", "/v1/readers/sim/read", []byte(`{"parts":["text","surface"]}`), false},
		{"GET", "/v1/readers/sim/certificates/auth", nil, false},
		{"GET", "/v1/readers/sim/certificates/sign", nil, false},
		{"POST", "/v1/readers/sim/authenticate", mustMarshal(map[string]any{"challengeNonce": newNonce(32)}), false},
		{"POST", "/v1/readers/sim/sign", mustMarshal(map[string]any{"digest": d[:]}), false},
		{"GET", "/v1/readers/sim/photo", nil, true},
		{"GET", "/v1/readers/sim/qr?kind=age", nil, true},
		{"POST", "/v1/oqs/confirm", []byte(`{"insurer":"01130012","symbol":"1234","number":"56","branch":"00","birth":"19850412"}`), false},
	}
	for _, c := range calls {
		var got [2]any
		for i, accept := range []string{"application/json", "application/cbor"} {
			h := app(tok, "Accept", accept)
			r := e.follow(e.do(c.method, c.path, c.body, h), h)
			if r.status != 200 {
				t.Fatalf("%s %s (%s): %d %s", c.method, c.path, accept, r.status, r.body)
			}
			if c.png {
				if r.header.Get("Content-Type") != "image/png" {
					t.Fatalf("%s: %s", c.path, r.header.Get("Content-Type"))
				}
				if _, err := png.Decode(bytes.NewReader(r.body)); err != nil {
					t.Fatalf("%s: %v", c.path, err)
				}
				got[i] = "png"
				continue
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, accept) {
				t.Fatalf("%s %s: content type %q for %s", c.method, c.path, ct, accept)
			}
			if i == 0 {
				got[i] = decodeJSON(t, r.body)
			} else {
				got[i] = decodeCBOR(t, r.body)
			}
		}
		a, b := got[0], got[1]
		if m, ok := a.(map[string]any); ok {
			// Reads are made twice: the nonces and traffic differ, nothing else.
			delete(m, "traffic")
			delete(b.(map[string]any), "traffic")
			if j, ok := m["job"]; ok && j != nil {
				delete(m, "job")
				delete(b.(map[string]any), "job")
				delete(m["eligibility"].(map[string]any), "processed_at")
				delete(b.(map[string]any)["eligibility"].(map[string]any), "processed_at")
				delete(m["eligibility"].(map[string]any), "file_identifier")
				delete(b.(map[string]any)["eligibility"].(map[string]any), "file_identifier")
			}
			stripVolatile(m)
			stripVolatile(b.(map[string]any))
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s %s: JSON and CBOR differ:\n%v\n%v", c.method, c.path, a, b)
		}
	}
	// The routes without a body of their own.
	r := e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["common"]}`), app(tok, "Accept", "application/cbor"))
	if r.status != 200 && r.status != 202 {
		t.Fatalf("%d", r.status)
	}
	var opv map[any]any
	rr := e.follow(r, app(tok, "Accept", "application/cbor"))
	if err := cbor.Unmarshal(rr.body, &opv); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/v1/openapi.json", "/", "/static/counter.js", "/static/consent.js", "/static/counter.css"} {
		if r := e.do("GET", p, nil, e.counter()); r.status != 200 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	// An operation's own routes, in both encodings.
	r = e.do("GET", "/v1/readers/sim/photo", nil, app(tok))
	if r.status == 202 {
		id := decodeJSON(t, r.body)["id"].(string)
		e.op(id, app(tok), finished)
		jr := e.do("GET", "/v1/operations/"+id, nil, app(tok))
		cr := e.do("GET", "/v1/operations/"+id, nil, app(tok, "Accept", "application/cbor"))
		if !reflect.DeepEqual(decodeJSON(t, jr.body), decodeCBOR(t, cr.body)) {
			t.Errorf("operation: JSON and CBOR differ")
		}
		if r := e.do("DELETE", "/v1/operations/"+id, nil, app(tok, "Accept", "application/cbor")); r.status != 200 {
			t.Errorf("cancel: %d", r.status)
		}
	}
	// The clinic stream: a face result arrives.
	s := e.openStream("/v1/oqs/events", app(tok))
	if _, err := term.EmitFace(ctx, "valid"); err != nil {
		t.Fatal(err)
	}
	ev := s.until(t, func(ev sse) bool { return ev.name == "face" })
	if f := ev[len(ev)-1].data; f["eligibility"].(map[string]any)["outcome"] != "valid" {
		t.Fatalf("face %v", f)
	}
	// Errors come in the encoding asked for too.
	r = e.do("GET", "/v1/readers/nope/card", nil, app(tok, "Accept", "application/cbor"))
	if r.status != 404 || decodeCBOR(t, r.body)["error"].(map[string]any)["code"] != "no-reader" {
		t.Fatalf("%d", r.status)
	}
}

func stripVolatile(m map[string]any) {
	for _, k := range []string{"created", "id"} {
		delete(m, k)
	}
}

func TestOversizedBodiesAre413(t *testing.T) {
	e := start(t, withOptions(func(o *bridge.Options) { o.MaxDocument = 1 << 10 }))
	tok := e.pair(appOrigin)
	big := append([]byte(`{"parts":["text"],"x":"`), bytes.Repeat([]byte("a"), 70<<10)...)
	big = append(big, '"', '}')
	if r := e.do("POST", "/v1/readers/sim/read", big, app(tok)); r.status != 413 {
		t.Errorf("read: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/readers/sim/sign", bytes.Repeat([]byte("d"), 2<<10), app(tok, "Content-Type", "application/octet-stream")); r.status != 413 {
		t.Errorf("sign: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/readers/sim/authenticate", big, app(tok)); r.status != 413 {
		t.Errorf("authenticate: %d", r.status)
	}
	form := "csrf=" + strings.Repeat("x", 5000)
	if r := e.do("POST", "/consent/x", []byte(form), e.counter("Content-Type", "application/x-www-form-urlencoded")); r.status != 413 && r.status != 404 {
		t.Errorf("consent: %d", r.status)
	}
	r := e.do("POST", "/v1/readers/sim/read", nil, app(tok))
	id := decodeJSON(t, r.body)["id"].(string)
	if r := e.do("POST", "/consent/"+id, []byte(form), e.counter("Content-Type", "application/x-www-form-urlencoded")); r.status != 413 {
		t.Errorf("consent: %d %s", r.status, r.body)
	}
	// Other bodies are refused with what was wrong.
	for body, want := range map[string]int{`{"parts":["face"]}`: 400, `{"parts":["text"]}{}`: 400, `[1]`: 400} {
		if r := e.do("POST", "/v1/readers/sim/read", []byte(body), app(tok)); r.status != want {
			t.Errorf("%s: %d", body, r.status)
		}
	}
	if r := e.do("POST", "/v1/readers/sim/read", []byte(`x`), app(tok, "Content-Type", "text/plain")); r.status != 415 {
		t.Errorf("text/plain: %d", r.status)
	}
}

// A PIN typed wrong is reported with the tries left, the origin is slowed
// down, and the retry guard never lets the bridge spend a last try.
func TestWrongPINIsRateLimitedAndTheGuardHolds(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := start(t, withOptions(func(o *bridge.Options) { o.Now = clock.now }))
	tok := e.pair(appOrigin)
	wrong := func(pinValue string, left float64) {
		t.Helper()
		r := e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["text"]}`), app(tok))
		if r.status != 202 {
			t.Fatalf("read: %d %s", r.status, r.body)
		}
		id := decodeJSON(t, r.body)["id"].(string)
		a := e.answer(id, url.Values{"pin": {pinValue}})
		if !strings.Contains(string(a.body), "残り") {
			t.Fatalf("wrong PIN page: %s", a.body)
		}
		v := e.op(id, app(tok), finished)
		errv := v["error"].(map[string]any)
		if v["state"] != "failed" || errv["code"] != "wrong-secret" || errv["remaining"] != left || errv["status"] != 422.0 {
			t.Fatalf("%v", v)
		}
	}
	wrong("9999", 2)
	// The same origin must now wait before anything is asked again.
	r := e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["text"]}`), app(tok))
	if r.status != 429 || r.header.Get("Retry-After") == "" || decodeJSON(t, r.body)["error"].(map[string]any)["code"] != "rate-limited" {
		t.Fatalf("after a wrong PIN: %d %s", r.status, r.body)
	}
	clock.add(time.Minute)
	wrong("9998", 1)
	clock.add(time.Hour)
	// One try left: the PIN is not asked for again. The session turns to
	// the other way into the text applet, 照合番号B from the card face.
	r = e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["text"]}`), app(tok))
	v := decodeJSON(t, r.body)
	if r.status != 202 || v["secret"].(map[string]any)["kind"] != "code-b" {
		t.Fatalf("one try left: %d %s", r.status, r.body)
	}
	e.do("DELETE", "/v1/operations/"+v["id"].(string), nil, app(tok))
	st := e.do("GET", "/v1/readers/sim/card", nil, app(tok))
	var status struct {
		PINs []struct {
			Name      string `json:"name"`
			Remaining int    `json:"remaining"`
		} `json:"pins"`
	}
	if err := json.Unmarshal(st.body, &status); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range status.PINs {
		if p.Name == "text-pin" {
			found = true
			if p.Remaining != 1 {
				t.Fatalf("text PIN tries %d, want 1 (never spent)", p.Remaining)
			}
		}
	}
	if !found {
		t.Fatalf("no text-pin in %s", st.body)
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Pulling the card cancels its operation cleanly, even while the holder is
// being asked, and the consent page says so.
func TestPullingTheCardCancels(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	evs := e.events(app(tok))
	r := e.do("POST", "/v1/readers/sim/read", nil, app(tok))
	id := decodeJSON(t, r.body)["id"].(string)
	if err := e.local.Remove(simReader); err != nil {
		t.Fatal(err)
	}
	v := e.op(id, app(tok), finished)
	if v["state"] != "cancelled" || v["error"].(map[string]any)["code"] != "card-removed" {
		t.Fatalf("%v", v)
	}
	evs.until(t, func(ev sse) bool { return ev.name == "card-removed" })
	if page := e.consentPage(id); !strings.Contains(page, "カードが抜かれました") || strings.Contains(page, `name="csrf"`) {
		t.Fatalf("consent page after removal:\n%s", page)
	}
	if r := e.do("POST", "/v1/readers/sim/read", nil, app(tok)); r.status != 409 {
		t.Fatalf("read without a card: %d", r.status)
	}
	// The access log has the operation, ended as cancelled.
	_, entries, err := accesslog.Verify(filepath.Join(e.logDir, accesslog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	ops, _ := accesslog.Operations(entries)
	last := ops[len(ops)-1]
	if last.Begin.Action != "read" || last.End == nil || last.End.Outcome != "cancelled" {
		t.Fatalf("%+v %+v", last.Begin, last.End)
	}
	// Back in, it is another insertion: reads work again.
	e.local.Insert(simReader)
	e.waitReader(true, true)
	if r := e.do("GET", "/v1/readers/sim/card", nil, app(tok)); r.status != 200 {
		t.Fatalf("%d", r.status)
	}
}

func TestConsentTimesOutAndCanBeCancelled(t *testing.T) {
	e := start(t, withOptions(func(o *bridge.Options) { o.ConsentTimeout = 50 * time.Millisecond }))
	tok := e.pair(appOrigin)
	r := e.do("POST", "/v1/readers/sim/read", nil, app(tok))
	id := decodeJSON(t, r.body)["id"].(string)
	v := e.op(id, app(tok), finished)
	if v["error"].(map[string]any)["code"] != "consent-timeout" {
		t.Fatalf("%v", v)
	}
	r = e.do("GET", "/v1/operations/"+id+"/result", nil, app(tok))
	if r.status != 408 {
		t.Fatalf("%d", r.status)
	}
}

func TestCancelAWaitingOperation(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	r := e.do("POST", "/v1/readers/sim/read", nil, app(tok))
	id := decodeJSON(t, r.body)["id"].(string)
	if r := e.do("DELETE", "/v1/operations/"+id, nil, map[string]string{"Origin": otherOrigin}); r.status != 403 {
		t.Fatalf("another origin cancelled: %d", r.status)
	}
	c := e.do("DELETE", "/v1/operations/"+id, nil, app(tok))
	if c.status != 200 || decodeJSON(t, c.body)["state"] != "cancelled" {
		t.Fatalf("%d %s", c.status, c.body)
	}
	if page := e.consentPage(id); strings.Contains(page, `name="csrf"`) {
		t.Fatal("the consent page still asks")
	}
}

// The access log records every operation with no personal data and no
// secret, and its chain verifies.
func TestAccessLogHoldsNoPersonalData(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	r := e.do("POST", "/v1/readers/sim/read", []byte(`{"photo":true}`), app(tok))
	id := decodeJSON(t, r.body)["id"].(string)
	e.answer(id, url.Values{"pin": {simtest.PIN}})
	e.op(id, app(tok), finished)
	e.do("GET", "/v1/readers/sim/card", nil, app(tok))
	raw, err := os.ReadFile(filepath.Join(e.logDir, accesslog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"黒桐", "幹也", "東京都", "1980-02-17", "19800217", "537686677188", "400000012719843", `"` + simtest.PIN + `"`, "40084651EC1DC68B"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the access log holds %q", secret)
		}
	}
	rep, entries, err := accesslog.Verify(filepath.Join(e.logDir, accesslog.FileName))
	if err != nil || !rep.Intact() {
		t.Fatalf("%+v %v", rep, err)
	}
	ops, _ := accesslog.Operations(entries)
	var actions []string
	card := ""
	for _, o := range ops {
		actions = append(actions, o.Begin.Action+"/"+o.End.Outcome)
		if o.Begin.Action == "read" {
			card = o.Card()
			if o.Begin.Origin != appOrigin || o.Begin.Reader != simReader || !reflect.DeepEqual(o.Begin.Data, []string{"text", "surface", "common", "jpki", "photo"}) {
				t.Errorf("read entry %+v", o.Begin)
			}
		}
	}
	sort.Strings(actions)
	if !reflect.DeepEqual(actions, []string{"pair/ok", "read/genuine", "status/ok"}) {
		t.Fatalf("operations %v", actions)
	}
	if card == "" || card != e.log.CardID("400000012719843") {
		t.Fatalf("card hash %q", card)
	}
}

// The OpenAPI document and the routes served agree in both directions.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	root := t.TempDir()
	if _, err := oqssim.New(oqssim.Config{Root: root}); err != nil {
		t.Fatal(err)
	}
	e := start(t, withOptions(func(o *bridge.Options) { o.Clinic = &bridge.ClinicOptions{Root: root} }))
	r := e.do("GET", "/v1/openapi.json", nil, nil)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("%v %q", err, doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range bridge.Routes(e.b) {
		p := strings.TrimSuffix(rt[1], "{$}")
		served[rt[0]+" "+p] = true
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("served but not documented: %s", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("documented but not served: %s", k)
		}
		// And the real mux routes it.
		m, p, _ := strings.Cut(k, " ")
		sample := strings.NewReplacer("{reader}", "sim", "{kind}", "auth", "{id}", "x", "{file}", "counter.js").Replace(p)
		if got := bridge.Pattern(e.b, m, sample); got == "" || strings.TrimSuffix(strings.TrimPrefix(got, m+" "), "{$}") != p {
			t.Errorf("%s %s is routed to %q", m, sample, got)
		}
	}
}

// A key with one try left is never tried through the bridge: the guard
// refuses before the holder is asked.
func TestRetryGuardIsAlwaysOn(t *testing.T) {
	img := simtest.Image(t)
	simtest.Applet(img, myna.JPKI).Keys[simulator.FIDString(myna.JPKIAuthPIN)].Remaining = 1
	e := start(t, withImage(img))
	tok := e.pair(appOrigin)
	r := e.do("POST", "/v1/readers/sim/authenticate", mustMarshal(map[string]any{"challengeNonce": newNonce(32)}), app(tok))
	if r.status != 423 || decodeJSON(t, r.body)["error"].(map[string]any)["code"] != "would-block" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if left, _, _ := e.sim.KeyState(myna.JPKI, myna.JPKIAuthPIN); left != 1 {
		t.Fatalf("tries left %d", left)
	}
}

// Request bodies may be CBOR too: bytes are byte strings there.
func TestCBORRequestBodies(t *testing.T) {
	e := start(t, withTerminal())
	tok := e.pair(appOrigin)
	nonce := newNonce(32)
	body, err := cbor.Marshal(map[string]any{"challengeNonce": nonce})
	if err != nil {
		t.Fatal(err)
	}
	h := app(tok, "Content-Type", "application/cbor", "Accept", "application/cbor")
	r := e.follow(e.do("POST", "/v1/readers/sim/authenticate", body, h), h)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// In the CBOR answer the token's base64 strings stay strings.
	m := decodeCBOR(t, r.body)
	token, err := webeid.ParseToken(mustMarshal(m))
	if err != nil || token.Format != webeid.Format {
		t.Fatalf("%v %v", m, err)
	}
	v := &webeid.Validator{Origin: appOrigin, Trust: simtest.Store(t), Nonces: anyNonce{}, AllowTestAnchors: true}
	if _, err := v.Validate(context.Background(), token, nonce); err != nil {
		t.Fatal(err)
	}
	// Unknown members and duplicate keys are refused in CBOR as in JSON.
	bad, _ := cbor.Marshal(map[string]any{"challengeNonce": nonce, "extra": 1})
	if r := e.do("POST", "/v1/readers/sim/authenticate", bad, h); r.status != 400 {
		t.Fatalf("unknown member: %d", r.status)
	}
	parts, _ := cbor.Marshal(map[string]any{"parts": []string{"common"}})
	if r := e.follow(e.do("POST", "/v1/readers/sim/read", parts, h), h); r.status != 200 || decodeCBOR(t, r.body)["common"] == nil {
		t.Fatalf("read: %d", r.status)
	}
}
