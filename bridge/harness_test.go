package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
)

const (
	appOrigin   = "https://app.example"
	otherOrigin = "https://evil.example"
	simReader   = "sim"
)

// env is a bridge on a free loopback port with the simulator in a local
// reader, and an access log in a temporary folder.
type env struct {
	t      testing.TB
	b      *bridge.Bridge
	local  *bridge.LocalReaders
	sim    *simulator.Card
	url    string
	host   string
	logDir string
	log    *accesslog.Log
	client *http.Client
	served chan error
	cancel context.CancelFunc

	sessionOnce sync.Once
	token       string
	armDelay    time.Duration
	stopOnce    sync.Once
}

type option func(*bridge.Options, *envSetup)

type envSetup struct {
	img     *simulator.Image
	absent  bool
	simOpts []simulator.Option
	wrap    func(http.Handler) http.Handler
	hook    func(*bridge.Bridge)
	backend func(*bridge.LocalReaders) bridge.Backend // wraps the in-process readers
}

// withBackend serves the readers through wrap's backend instead of the
// in-process readers themselves.
func withBackend(wrap func(*bridge.LocalReaders) bridge.Backend) option {
	return func(_ *bridge.Options, s *envSetup) { s.backend = wrap }
}

// withHook runs f on the bridge before it serves.
func withHook(f func(*bridge.Bridge)) option {
	return func(_ *bridge.Options, s *envSetup) { s.hook = f }
}

// withWrap serves the bridge through wrap (a benchmark's timing).
func withWrap(wrap func(http.Handler) http.Handler) option {
	return func(_ *bridge.Options, s *envSetup) { s.wrap = wrap }
}

func withImage(img *simulator.Image) option {
	return func(_ *bridge.Options, s *envSetup) { s.img = img }
}

func withoutCard() option { return func(_ *bridge.Options, s *envSetup) { s.absent = true } }

func withOptions(f func(*bridge.Options)) option {
	return func(o *bridge.Options, _ *envSetup) { f(o) }
}

// withTerminal makes the bridge ask a prompter that knows the default
// persona's secrets instead of the consent page (as --prompt terminal asks
// the terminal), and approve every pairing.
func withTerminal() option {
	return func(o *bridge.Options, _ *envSetup) {
		o.Consent = &bridge.PromptConsent{Prompter: holder{}, Approve: func(context.Context, bridge.ConsentRequest) (bool, error) { return true, nil }}
	}
}

// holder answers every prompt with the default persona's secret of the
// kind asked.
type holder struct{}

func (holder) Prompt(ctx context.Context, req pin.Request) ([]byte, error) {
	switch req.Kind {
	case myna.ShortPIN:
		return []byte(simtest.PIN), nil
	case myna.SignPassword:
		return []byte(simtest.SignPassword), nil
	case myna.CodeB:
		return []byte(simtest.CodeB), nil
	}
	return nil, fmt.Errorf("%w: %v", pin.ErrNoSecret, req.Kind)
}

func start(t testing.TB, opts ...option) *env {
	t.Helper()
	setup := &envSetup{}
	o := bridge.Options{AllowOrigins: []string{appOrigin}}
	for _, f := range opts {
		f(&o, setup)
	}
	if o.ArmDelay == 0 {
		// Short, so that the tests that answer consent pages stay quick;
		// the answer helper waits it out as a holder reading the page does.
		o.ArmDelay = 30 * time.Millisecond
	}
	if setup.img == nil {
		setup.img = simtest.Image(t)
	}
	sim := simtest.Sim(t, setup.img, setup.simOpts...)
	local := bridge.NewLocalReaders()
	if setup.absent {
		sim.Remove()
	}
	if err := local.Add(simReader, sim, !setup.absent); err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	lg, err := accesslog.Open(logDir, accesslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := bridge.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Addr, o.Backend, o.Log = ln.Addr().String(), local, lg
	if setup.backend != nil {
		o.Backend = setup.backend(local)
	}
	b, err := bridge.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if setup.hook != nil {
		setup.hook(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{t: t, b: b, local: local, sim: sim, url: "http://" + ln.Addr().String(), host: ln.Addr().String(), logDir: logDir, log: lg,
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{}}, served: make(chan error, 1), cancel: cancel, armDelay: o.ArmDelay}
	if setup.wrap != nil {
		srv := &http.Server{Handler: setup.wrap(b)}
		go func() {
			err := srv.Serve(ln)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			e.served <- err
		}()
		go func() {
			<-ctx.Done()
			b.Close()
			srv.Close()
		}()
	} else {
		go func() { e.served <- b.Serve(ctx, ln) }()
	}
	t.Cleanup(e.stop)
	e.waitReader(true, !setup.absent)
	return e
}

func (e *env) stop() { e.stopOnce.Do(e.stopNow) }

func (e *env) stopNow() {
	e.client.CloseIdleConnections()
	e.cancel()
	select {
	case err := <-e.served:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.t.Errorf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		e.t.Error("the bridge did not stop")
	}
	e.client.CloseIdleConnections()
	e.log.Close()
}

// waitReader waits until the bridge lists the reader with the card in or
// out (it follows the backend's events).
func (e *env) waitReader(exists, present bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var rs struct {
			Readers []struct {
				Name        string `json:"name"`
				CardPresent bool   `json:"card_present"`
			} `json:"readers"`
		}
		resp := e.do("GET", "/v1/readers", nil, nil)
		_ = json.Unmarshal(resp.body, &rs)
		found := false
		for _, r := range rs.Readers {
			if r.Name == simReader {
				found = true
				if r.CardPresent == present && exists {
					return
				}
			}
		}
		if !exists && !found {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("reader %q: want exists=%v present=%v", simReader, exists, present)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; headers may set Origin, Authorization, Accept, ...
func (e *env) do(method, path string, body []byte, headers map[string]string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// session opens the counter page through a one-time URL, as mynakit open
// and the page's script do: the ticket is the URL's fragment, which the
// browser keeps to itself; the script posts it to /v1/session and gets
// the session token in the body. No cookie is ever set.
func (e *env) session() string {
	e.sessionOnce.Do(func() {
		e.token = e.redeem(e.b.OpenURL(time.Minute))
		if e.token == "" {
			e.t.Fatal("the one-time URL gave no session")
		}
	})
	return e.token
}

// redeem does what the counter page's script does with a one-time URL: it
// loads the page (without the fragment, which the browser never sends)
// and posts the fragment's ticket. It returns the session token, or "" if
// the bridge refused. Neither answer may set a cookie.
func (e *env) redeem(openURL string) string {
	e.t.Helper()
	page, frag, ok := strings.Cut(openURL, "#")
	ticket, isTicket := strings.CutPrefix(frag, "ticket=")
	if !ok || !isTicket || page != e.url+"/" {
		e.t.Fatalf("the one-time URL is not %s/#ticket=…: %s", e.url, openURL)
	}
	r := e.do("GET", "/", nil, map[string]string{"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"})
	if r.status != http.StatusOK || len(r.header.Values("Set-Cookie")) != 0 {
		e.t.Fatalf("the counter page: %d %v", r.status, r.header)
	}
	body, _ := json.Marshal(map[string]string{"ticket": ticket})
	r = e.do("POST", "/v1/session", body, map[string]string{"Origin": e.url, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"})
	if len(r.header.Values("Set-Cookie")) != 0 {
		e.t.Fatalf("the session is set as a cookie: %v", r.header.Values("Set-Cookie"))
	}
	if r.status != http.StatusOK {
		return ""
	}
	tok, _ := decodeJSON(e.t, r.body)["session"].(string)
	return tok
}

// counter is what the counter page's own requests carry: the session
// token as a bearer token, from the bridge's own origin.
func (e *env) counter(extra ...string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + e.session(), "Sec-Fetch-Site": "same-origin", "Origin": e.url}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

// appToken is a local application's token.
func (e *env) appToken(name string) string {
	e.t.Helper()
	tok, err := e.b.AppToken(name)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// local is what a local application's requests carry.
func local(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func decodeJSON(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

func decodeCBOR(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var v map[any]any
	if err := cbor.Unmarshal(b, &v); err != nil {
		t.Fatalf("not CBOR: %v", err)
	}
	return normalizeCBOR(v).(map[string]any)
}

// normalizeCBOR turns decoded CBOR into what decoded JSON looks like.
func normalizeCBOR(v any) any {
	switch x := v.(type) {
	case map[any]any:
		out := map[string]any{}
		for k, e := range x {
			out[fmt.Sprint(k)] = normalizeCBOR(e)
		}
		return out
	case []any:
		for i := range x {
			x[i] = normalizeCBOR(x[i])
		}
		return x
	case uint64:
		return float64(x)
	case int64:
		return float64(x)
	}
	return v
}

// op follows an operation until it has left states in skip.
func (e *env) op(id string, headers map[string]string, until func(state string) bool) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := e.do("GET", "/v1/operations/"+id, nil, headers)
		if r.status != http.StatusOK {
			e.t.Fatalf("operation %s: %d %s", id, r.status, r.body)
		}
		v := decodeJSON(e.t, r.body)
		if until(v["state"].(string)) {
			return v
		}
		time.Sleep(2 * time.Millisecond)
	}
	e.t.Fatalf("operation %s did not get there", id)
	return nil
}

func finished(s string) bool { return s == "done" || s == "failed" || s == "cancelled" }

var (
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	shownRE = regexp.MustCompile(`name="shown" value="([^"]+)"`)
)

// consentPage fetches the consent page as the browser does.
func (e *env) consentPage(id string) string {
	e.t.Helper()
	r := e.do("GET", "/consent/"+id, nil, map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
	if r.status != http.StatusOK {
		e.t.Fatalf("consent page: %d %s", r.status, r.body)
	}
	return string(r.body)
}

// answer submits the consent form from the bridge's own page, in the
// counter's session, once the page has been up for the arm delay.
func (e *env) answer(id string, fields url.Values) response {
	e.t.Helper()
	page := e.consentPage(id)
	m := csrfRE.FindStringSubmatch(page)
	sh := shownRE.FindStringSubmatch(page)
	if m == nil || sh == nil {
		e.t.Fatalf("no form on the consent page:\n%s", page)
	}
	fields.Set("csrf", m[1])
	fields.Set("shown", sh[1])
	if fields.Get("choice") == "" {
		fields.Set("choice", "allow")
	}
	time.Sleep(e.armDelay)
	return e.do("POST", "/consent/"+id, []byte(fields.Encode()), e.counter("Content-Type", "application/x-www-form-urlencoded"))
}

// pair pairs origin through the consent page and returns its token; body
// is the pairing request (e.g. {"clinic":true}).
func (e *env) pair(origin string, body ...string) string {
	e.t.Helper()
	var b []byte
	if len(body) > 0 {
		b = []byte(body[0])
	}
	r := e.do("POST", "/v1/pair", b, map[string]string{"Origin": origin})
	if r.status != http.StatusAccepted {
		e.t.Fatalf("pair: %d %s", r.status, r.body)
	}
	v := decodeJSON(e.t, r.body)
	id := v["id"].(string)
	if v["consent"] == "page" {
		if a := e.answer(id, url.Values{}); a.status != http.StatusOK {
			e.t.Fatalf("approve: %d %s", a.status, a.body)
		}
	}
	v = e.op(id, map[string]string{"Origin": origin}, finished)
	tok, _ := v["token"].(string)
	if tok == "" {
		e.t.Fatalf("no token: %v", v)
	}
	return tok
}

func app(token string, extra ...string) map[string]string {
	h := map[string]string{"Origin": appOrigin, "Authorization": "Bearer " + token}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}
