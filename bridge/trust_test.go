package bridge_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/oqs/oqssim"
)

// ended waits for the stream to end.
func (s *stream) ended(t testing.TB) {
	t.Helper()
	timeout := timer(t)
	for {
		select {
		case _, ok := <-s.ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the stream did not end")
		}
	}
}

// forged is what a local program without the session sends to pass for
// the counter page: the bridge's Origin and Sec-Fetch-Site, which only a
// browser sets honestly.
func (e *env) forged(extra ...string) map[string]string {
	h := map[string]string{"Origin": e.url, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

// Finding 1: a plain local HTTP client gets no token from the counter page,
// whatever it claims to be; the page is the same for everyone and sets no
// cookie.
func TestPlainLocalClientGetsNoToken(t *testing.T) {
	e := start(t)
	for name, h := range map[string]map[string]string{
		"plain":            nil,
		"forged same-site": e.forged(),
		"forged navigate":  {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},
	} {
		r := e.do("GET", "/", nil, h)
		if r.status != http.StatusOK || len(r.header.Values("Set-Cookie")) != 0 {
			t.Errorf("%s: %d %v", name, r.status, r.header)
		}
		if bytes.Contains(r.body, []byte("mynakit-token")) || bytes.Contains(r.body, []byte(`name="csrf"`)) || !bytes.Contains(r.body, []byte(`id="closed" hidden`)) {
			t.Errorf("%s: the page carries a secret, or cannot say how to open it:\n%s", name, r.body)
		}
	}
	// Only the one-time URL's ticket opens a session, once.
	u := e.b.OpenURL(time.Minute)
	if e.redeem(u) == "" {
		t.Fatal("the one-time URL opened no session")
	}
	if e.redeem(u) != "" {
		t.Fatal("the one-time URL opened a second session")
	}
	// A made-up ticket, or one of another launch's secret, opens nothing.
	other := bridge.Launch{Secret: bridge.NewSecret(), URL: e.url}
	for _, u := range []string{e.url + "/#ticket=1.2.3", other.OpenURL(time.Now(), time.Minute)} {
		if e.redeem(u) != "" {
			t.Errorf("%s opened a session", u)
		}
	}
	// The old cookie route is gone.
	if r := e.do("GET", "/open?t="+strings.TrimPrefix(e.b.OpenURL(time.Minute), e.url+"/#ticket="), nil, nil); r.status != http.StatusNotFound || len(r.header.Values("Set-Cookie")) != 0 {
		t.Errorf("/open: %d %v", r.status, r.header)
	}
}

// The counter's session is never a cookie: browsers send a host's cookies
// to every port of it, so a program on another loopback port that the
// clerk's browser visits would receive it. The session is a bearer token
// the page keeps in its origin's sessionStorage; the ticket is spent only
// by the bridge's own page; and a request carrying the session as a
// cookie — everything a browser would send another port — is refused for
// the events, a consent's approval and a pairing's approval.
func TestCounterSessionIsNeverACookie(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	_, port, _ := net.SplitHostPort(e.host)
	// The ticket is spent only from the bridge's own page: another origin
	// (or a page without one) cannot use it, and does not spend it.
	u := e.b.OpenURL(time.Minute)
	ticket := strings.TrimPrefix(u, e.url+"/#ticket=")
	body, _ := json.Marshal(map[string]string{"ticket": ticket})
	for _, h := range []map[string]string{
		{"Origin": appOrigin, "Content-Type": "application/json"},
		{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"},
	} {
		if r := e.do("POST", "/v1/session", body, h); r.status != http.StatusForbidden || len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("ticket spent from %v: %d %s", h, r.status, r.body)
		}
	}
	session := e.redeem(u)
	if session == "" {
		t.Fatal("the refused attempts spent the ticket")
	}
	// The session token works as a bearer token from the bridge's own
	// origin, and nowhere else.
	own := map[string]string{"Origin": e.url, "Sec-Fetch-Site": "same-origin", "Authorization": "Bearer " + session}
	if r := e.do("GET", "/v1/consents", nil, own); r.status != http.StatusOK {
		t.Fatalf("the session token: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/consents", nil, map[string]string{"Origin": appOrigin, "Authorization": "Bearer " + session}); r.status != http.StatusUnauthorized {
		t.Fatalf("the session token from another origin: %d %s", r.status, r.body)
	}
	// Every cookie the browser would send another port of this host, with
	// the session in it, under today's name and under any other.
	stolen := "mynakit-session-" + port + "=" + session + "; mynakit-session=" + session + "; session=" + session
	for name, h := range map[string]map[string]string{
		"cookie, forged same-origin": e.forged("Cookie", stolen),
		"cookie, navigation":         {"Cookie": stolen, "Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},
		"cookie, bare":               {"Cookie": stolen},
	} {
		for _, p := range []string{"/v1/events", "/v1/readers/sim/card", "/v1/consents"} {
			if r := e.do("GET", p, nil, h); r.status != http.StatusUnauthorized && r.status != http.StatusForbidden {
				t.Errorf("%s: %s answered %d", name, p, r.status)
			}
		}
	}
	// A read waits for the PIN; a pairing waits for approval. Neither is
	// answered with the stolen cookie.
	_, forms := pendingAllowForms(t, e, tok)
	for id, form := range forms {
		for _, h := range []map[string]string{
			e.forged("Cookie", stolen, "Content-Type", "application/x-www-form-urlencoded"),
			{"Origin": e.url, "Cookie": stolen, "Content-Type": "application/x-www-form-urlencoded"},
			{"Origin": "null", "Sec-Fetch-Site": "same-origin", "Cookie": stolen, "Content-Type": "application/x-www-form-urlencoded"},
		} {
			if a := e.do("POST", "/consent/"+id, []byte(form), h); a.status != http.StatusForbidden {
				t.Fatalf("answered with a stolen cookie (%v): %d %s", h, a.status, a.body)
			}
		}
		v := e.op(id, app(tok), func(string) bool { return true })
		if v["state"] != "consent" || v["token"] != nil {
			t.Fatalf("after answers with a stolen cookie: %v", v)
		}
	}
}

// Finding 1: without the session or a token, no events, no card status,
// and no reads, even as the bridge's own origin.
func TestPlainLocalClientCannotReadEvents(t *testing.T) {
	e := start(t)
	for _, h := range []map[string]string{nil, e.forged(), {"Origin": e.url}} {
		for _, p := range []string{"/v1/events", "/v1/readers/0/card"} {
			if r := e.do("GET", p, nil, h); r.status != http.StatusUnauthorized {
				t.Errorf("%s with %v: %d", p, h, r.status)
			}
		}
		if r := e.do("POST", "/v1/readers/0/read", []byte(`{}`), h); r.status != http.StatusUnauthorized {
			t.Errorf("read with %v: %d", h, r.status)
		}
	}
}

// Finding 1: a local program cannot answer a consent or pairing form, even
// with the form's values, a forged Origin and Sec-Fetch-Site; only the
// counter's session can.
func TestLocalClientCannotApproveConsentOrPairing(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	// A read waits for the PIN; a pairing (forged as the app's origin)
	// waits for approval.
	read, forms := pendingAllowForms(t, e, tok)
	for id, form := range forms {
		for _, h := range []map[string]string{
			e.forged("Content-Type", "application/x-www-form-urlencoded"),
			{"Origin": e.url, "Content-Type": "application/x-www-form-urlencoded"},
			{"Origin": "null", "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded"},
			{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Bearer " + tok},
		} {
			if a := e.do("POST", "/consent/"+id, []byte(form), h); a.status != http.StatusForbidden && a.status != http.StatusUnauthorized {
				t.Fatalf("answered without the session (%v): %d %s", h, a.status, a.body)
			}
		}
		v := e.op(id, map[string]string{"Origin": appOrigin, "Authorization": "Bearer " + tok}, func(s string) bool { return true })
		if v["state"] != "consent" || v["token"] != nil {
			t.Fatalf("after forged answers: %v", v)
		}
	}
	// The real token still works: nothing was re-paired.
	readID := decodeJSON(t, read.body)["id"].(string)
	if r := e.do("GET", "/v1/operations/"+readID, nil, app(tok)); r.status != 200 {
		t.Fatalf("the app's token: %d %s", r.status, r.body)
	}
}

// Finding 14: a click right after the page appeared does not approve; the
// bridge checks the time since the page was served, not only the script.
func TestConsentButtonsArmOnlyAfterTheDelay(t *testing.T) {
	e := start(t, withOptions(func(o *bridge.Options) { o.ArmDelay = time.Hour }))
	r := e.do("POST", "/v1/pair", nil, map[string]string{"Origin": appOrigin})
	id := decodeJSON(t, r.body)["id"].(string)
	page := e.consentPage(id)
	if !strings.Contains(page, `data-arm="3600000"`) || !strings.Contains(page, `id="allow" disabled`) || !strings.Contains(page, "/static/consent.js") {
		t.Fatalf("the page does not arm its button late:\n%s", page)
	}
	form := url.Values{"csrf": {csrfRE.FindStringSubmatch(page)[1]}, "shown": {shownRE.FindStringSubmatch(page)[1]}, "choice": {"allow"}}.Encode()
	a := e.do("POST", "/consent/"+id, []byte(form), e.counter("Content-Type", "application/x-www-form-urlencoded"))
	if a.status != 200 || !strings.Contains(string(a.body), "表示直後") {
		t.Fatalf("early click: %d %s", a.status, a.body)
	}
	// A made-up time stamp does not help either.
	form = url.Values{"csrf": {csrfRE.FindStringSubmatch(page)[1]}, "shown": {"1.AAAA"}, "choice": {"allow"}}.Encode()
	e.do("POST", "/consent/"+id, []byte(form), e.counter("Content-Type", "application/x-www-form-urlencoded"))
	if v := e.op(id, map[string]string{"Origin": appOrigin}, func(string) bool { return true }); v["state"] != "consent" {
		t.Fatalf("approved early: %v", v)
	}
}

// Findings 10 and 14: CORS only on the /v1 API, never on the pages; the
// pairing and consent pages (and the counter) are opened with COOP.
func TestCORSOnlyOnTheAPIAndCOOPOnPages(t *testing.T) {
	e := start(t)
	r := e.do("POST", "/v1/pair", nil, map[string]string{"Origin": appOrigin})
	id := decodeJSON(t, r.body)["id"].(string)
	for _, p := range []string{"/", "/consent/" + id, "/static/counter.js", "/static/consent.js"} {
		r := e.do("GET", p, nil, map[string]string{"Origin": appOrigin})
		if v := r.header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: Access-Control-Allow-Origin %q", p, v)
		}
		if r := e.do("OPTIONS", p, nil, map[string]string{"Origin": appOrigin, "Access-Control-Request-Method": "GET"}); r.status != 403 || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight of %s: %d", p, r.status)
		}
	}
	if r := e.do("GET", "/v1/readers", nil, map[string]string{"Origin": appOrigin}); r.header.Get("Access-Control-Allow-Origin") != appOrigin {
		t.Errorf("the API lost its CORS: %v", r.header)
	}
	for _, p := range []string{"/consent/" + id, "/"} {
		r := e.do("GET", p, nil, e.counter())
		if r.header.Get("Cross-Origin-Opener-Policy") != "same-origin" {
			t.Errorf("%s: COOP %q", p, r.header.Get("Cross-Origin-Opener-Policy"))
		}
	}
	page := e.consentPage(id)
	for _, want := range []string{appOrigin, "依頼元", "カードリーダー", "対象のデータ"} {
		if !strings.Contains(page, want) {
			t.Errorf("the pairing page does not say %q", want)
		}
	}
}

// Finding 2: reads that identify the card or the person ask the holder
// first; /card tells presence and tries only.
func TestIdentifyingReadsNeedConsent(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	card := e.do("GET", "/v1/readers/sim/card", nil, app(tok))
	v := decodeJSON(t, card.body)
	if card.status != 200 || v["card_present"] != true || v["pins"] == nil || v["atr"] != nil {
		t.Fatalf("/card: %d %s", card.status, card.body)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/readers/sim/read", `{"parts":["common","jpki"]}`},
		{"POST", "/v1/readers/sim/read", `{"parts":["common"]}`},
		{"GET", "/v1/readers/sim/certificates/auth", ""},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		r := e.do(c.method, c.path, body, app(tok))
		v := decodeJSON(t, r.body)
		if r.status != http.StatusAccepted || v["state"] != "consent" || v["secret"] != nil {
			t.Fatalf("%s %s %s: %d %s", c.method, c.path, c.body, r.status, r.body)
		}
		id := v["id"].(string)
		if page := e.consentPage(id); !strings.Contains(page, appOrigin) || !strings.Contains(page, "許可する") {
			t.Fatalf("consent page:\n%s", page)
		}
		e.answer(id, url.Values{"choice": {"deny"}})
		v = e.op(id, app(tok), finished)
		if v["state"] != "failed" || v["error"].(map[string]any)["code"] != "denied" || v["result"] != nil {
			t.Fatalf("declined: %v", v)
		}
	}
	// Allowed, the read answers.
	r := e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["common"]}`), app(tok))
	id := decodeJSON(t, r.body)["id"].(string)
	e.answer(id, url.Values{})
	if v := e.op(id, app(tok), finished); v["state"] != "done" || v["result"].(map[string]any)["common"] == nil {
		t.Fatalf("allowed: %v", v)
	}
}

// Finding 9: revoking a token (pairing again, or DELETE /v1/pair) ends its
// open streams; each local application is a principal of its own.
func TestRevokedTokenStreamEnds(t *testing.T) {
	e := start(t, withTerminal())
	first := e.pair(appOrigin)
	s := e.events(app(first))
	s.until(t, func(ev sse) bool { return ev.name == "card-inserted" })
	second := e.pair(appOrigin)
	s.ended(t)
	if r := e.do("GET", "/v1/events", nil, app(first)); r.status != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d", r.status)
	}
	// A local application revokes its own token; another application's
	// stream goes on.
	a, b := e.appToken("billing"), e.appToken("reception")
	sa, sb := e.events(local(a)), e.events(local(b))
	sa.until(t, func(ev sse) bool { return ev.name == "card-inserted" })
	sb.until(t, func(ev sse) bool { return ev.name == "card-inserted" })
	if r := e.do("DELETE", "/v1/pair", nil, local(a)); r.status != 200 {
		t.Fatalf("unpair: %d %s", r.status, r.body)
	}
	sa.ended(t)
	if r := e.do("GET", "/v1/readers/sim/card", nil, local(a)); r.status != http.StatusUnauthorized {
		t.Fatalf("the revoked app token: %d", r.status)
	}
	if err := e.local.Remove(simReader); err != nil {
		t.Fatal(err)
	}
	sb.until(t, func(ev sse) bool { return ev.name == "card-removed" })
	ws := e.events(app(second))
	ws.until(t, func(ev sse) bool { return ev.name == "reader-added" })
}

// Finding 3: face results reach only principals paired for the clinic
// mode, and each one handed out is in the access log.
func TestClinicFacesOnlyToClinicPrincipals(t *testing.T) {
	root := t.TempDir()
	term, err := oqssim.New(oqssim.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, withTerminal(), withOptions(func(o *bridge.Options) {
		o.Clinic = &bridge.ClinicOptions{Root: root, ScanInterval: 20 * time.Millisecond}
	}))
	plain := e.pair(appOrigin)
	if r := e.do("GET", "/v1/oqs/events", nil, app(plain)); r.status != http.StatusForbidden {
		t.Fatalf("a plain pairing got the face stream: %d", r.status)
	}
	if r := e.do("GET", "/v1/oqs/events", nil, local(e.appToken("billing"))); r.status != http.StatusForbidden {
		t.Fatalf("a local application got the face stream: %d", r.status)
	}
	clinic := e.pair(appOrigin, `{"clinic":true}`)
	s := e.openStream("/v1/oqs/events", app(clinic))
	if _, err := term.EmitFace(context.Background(), "valid"); err != nil {
		t.Fatal(err)
	}
	s.until(t, func(ev sse) bool { return ev.name == "face" })
	_, entries, err := accesslog.Verify(e.log.Path())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, en := range entries {
		if en.Action == "oqs-face" && en.Origin == appOrigin && en.Event == accesslog.End {
			found = true
		}
	}
	if !found {
		t.Fatal("the face result handed out is not in the access log")
	}
}

// Finding 12: the signing consent names the hash algorithm and the
// document; a raw digest needs the caller to be allowed, and the page says
// its content cannot be shown.
func TestSigningConsentSaysWhatIsSigned(t *testing.T) {
	d := sha512.Sum512([]byte("contract"))
	digest := mustMarshal(map[string]any{"digest": d[:], "hash": "sha512"})
	e := start(t)
	tok := e.pair(appOrigin)
	r := e.do("POST", "/v1/readers/sim/sign", digest, app(tok))
	if r.status != http.StatusForbidden || decodeJSON(t, r.body)["error"].(map[string]any)["code"] != "digest-not-allowed" {
		t.Fatalf("a raw digest by default: %d %s", r.status, r.body)
	}
	e = start(t, withOptions(func(o *bridge.Options) { o.DigestSigners = []string{appOrigin} }))
	tok = e.pair(appOrigin)
	r = e.do("POST", "/v1/readers/sim/sign", digest, app(tok))
	id := decodeJSON(t, r.body)["id"].(string)
	page := e.consentPage(id)
	if !strings.Contains(page, `id="digest-alg">SHA-512<`) || strings.Contains(page, "SHA-256") || !strings.Contains(page, "表示できません") || !strings.Contains(page, "cannot be shown") {
		t.Fatalf("raw digest page:\n%s", page)
	}
	e.do("DELETE", "/v1/operations/"+id, nil, app(tok))
	doc := bytes.Repeat([]byte("契約"), 1000)
	r = e.do("POST", "/v1/readers/sim/sign", doc, app(tok, "Content-Type", "application/octet-stream", "X-Document-Name", url.PathEscape("契約書.pdf")))
	page = e.consentPage(decodeJSON(t, r.body)["id"].(string))
	if !strings.Contains(page, "契約書.pdf") || !strings.Contains(page, "6000 バイト") || !strings.Contains(page, `id="digest-alg">SHA-256<`) || strings.Contains(page, "表示できません") {
		t.Fatalf("document page:\n%s", page)
	}
	// A PDF: its pages are counted too.
	e.do("DELETE", "/v1/operations/"+decodeJSON(t, r.body)["id"].(string), nil, app(tok))
	pdf, err := os.ReadFile("../pdfsig/testdata/classic.pdf") // two pages
	if err != nil {
		t.Fatal(err)
	}
	r = e.do("POST", "/v1/readers/sim/sign", pdf, app(tok, "Content-Type", "application/octet-stream", "X-Document-Name", "classic.pdf"))
	if page = e.consentPage(decodeJSON(t, r.body)["id"].(string)); !strings.Contains(page, "PDF 2 ページ pages") {
		t.Fatalf("PDF page:\n%s", page)
	}
}

// Finding 13: a consent nobody answers can be cancelled from the counter
// page, and others waiting for the reader are told it waits for consent.
func TestCounterCancelsAnUnansweredConsent(t *testing.T) {
	e := start(t, withOptions(func(o *bridge.Options) { o.QueueWait = 30 * time.Millisecond }))
	tok := e.pair(appOrigin)
	r := e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["text"]}`), app(tok))
	id := decodeJSON(t, r.body)["id"].(string)
	if s := e.do("GET", "/v1/readers/sim/card", nil, local(e.appToken("billing"))); s.status != http.StatusConflict || decodeJSON(t, s.body)["error"].(map[string]any)["code"] != "waiting-for-consent" {
		t.Fatalf("a waiting caller: %d %s", s.status, s.body)
	}
	if l := e.do("GET", "/v1/consents", nil, app(tok)); l.status != http.StatusForbidden {
		t.Fatalf("the app listed the consents: %d", l.status)
	}
	l := e.do("GET", "/v1/consents", nil, e.counter())
	var list struct {
		Consents []struct {
			ID, Origin string
		}
	}
	if err := json.Unmarshal(l.body, &list); err != nil || len(list.Consents) != 1 || list.Consents[0].ID != id || list.Consents[0].Origin != appOrigin {
		t.Fatalf("consents: %s", l.body)
	}
	if c := e.do("DELETE", "/v1/operations/"+id, nil, e.counter()); c.status != 200 {
		t.Fatalf("cancel: %d %s", c.status, c.body)
	}
	if v := e.op(id, app(tok), finished); v["state"] != "cancelled" {
		t.Fatalf("%v", v)
	}
}

// Finding 8: the token, the reader and a place in its queue are checked
// before a document is read: a full queue answers 429 while the body has
// not been sent.
func TestSignAnswersBeforeReadingTheBody(t *testing.T) {
	e := start(t, withOptions(func(o *bridge.Options) { o.QueueDepth = 1; o.QueueWait = time.Minute }))
	tok := e.pair(appOrigin)
	// One operation has the reader (waiting for the PIN), one waits.
	r := e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["text"]}`), app(tok))
	if r.status != http.StatusAccepted {
		t.Fatalf("%d", r.status)
	}
	// A status request waits for the reader: the queue is full. (Sent
	// again whenever it came back, refused by an upload that took the
	// place first.)
	waiter := make(chan struct{}, 1)
	waiter <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-waiter:
			go func() {
				e.doCtx(ctx, "GET", "/v1/readers/sim/card", nil, local(e.appToken("billing")))
				waiter <- struct{}{}
			}()
			time.Sleep(50 * time.Millisecond)
		default:
		}
		// The headers of a 16 MiB upload, and not a byte of its body.
		c, err := net.Dial("tcp", e.host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST /v1/readers/sim/sign HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", e.host, appOrigin, tok, 16<<20)
		// Until the queue is full (the status request may not wait yet),
		// the bridge takes the upload and waits for its body: give up on
		// that one and try again.
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.HasPrefix(line, "HTTP/1.1 429") {
			return // answered with nothing of the body sent
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("a full queue did not refuse the upload before its body")
}

// pendingAllowForms starts a read that waits for the PIN and a pairing
// (forged as the app's origin) that waits for approval, and returns the
// read's answer and, by operation id, the "allow" form each consent page
// would post once armed (with a PIN), as a forger who read the page would
// build it.
func pendingAllowForms(t *testing.T, e *env, tok string) (response, map[string]string) {
	t.Helper()
	read := e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["text"]}`), app(tok))
	pair := e.do("POST", "/v1/pair", nil, map[string]string{"Origin": appOrigin})
	forms := map[string]string{}
	for _, r := range []response{read, pair} {
		if r.status != http.StatusAccepted {
			t.Fatalf("%d %s", r.status, r.body)
		}
		id := decodeJSON(t, r.body)["id"].(string)
		page := e.consentPage(id)
		csrf, shown := csrfRE.FindStringSubmatch(page), shownRE.FindStringSubmatch(page)
		if csrf == nil || shown == nil {
			t.Fatalf("no form:\n%s", page)
		}
		forms[id] = url.Values{"csrf": {csrf[1]}, "shown": {shown[1]}, "choice": {"allow"}, "pin": {"1234"}}.Encode()
	}
	time.Sleep(e.armDelay)
	return read, forms
}
