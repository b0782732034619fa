package bridge_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
)

func TestTerminalConsentDescribesAndTimesOut(t *testing.T) {
	var out bytes.Buffer
	asked := make(chan bridge.ConsentRequest, 1)
	c := &bridge.PromptConsent{Out: &out, Prompter: pin.PromptFunc(func(ctx context.Context, r pin.Request) ([]byte, error) {
		<-ctx.Done() // the holder never answers
		return nil, ctx.Err()
	}), Approve: func(_ context.Context, r bridge.ConsentRequest) (bool, error) { asked <- r; return true, nil }}
	e := start(t, withOptions(func(o *bridge.Options) { o.Consent = c; o.ConsentTimeout = 50 * time.Millisecond }))
	tok := e.pair(appOrigin)
	if r := <-asked; r.Origin != appOrigin || r.Action != "pair" {
		t.Fatalf("pairing asked %+v", r)
	}
	r := e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["text"]}`), app(tok))
	var v map[string]any
	if r.status == 202 {
		v = e.op(decodeJSON(t, r.body)["id"].(string), app(tok), finished)
	} else {
		v = decodeJSON(t, r.body)
	}
	if errv, _ := v["error"].(map[string]any); errv == nil || errv["code"] != "consent-timeout" {
		t.Fatalf("%d %v", r.status, v)
	}
	for _, want := range []string{appOrigin, "氏名", "sim"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the terminal was not told %q:\n%s", want, out.String())
		}
	}
}

func TestLineApprover(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "yes\n": true, "Y": true, "n\n": false, "\n": false, "nope\n": false} {
		ok, err := bridge.LineApprover(pin.NewLinePrompter(strings.NewReader(in)), &bytes.Buffer{})(context.Background(), bridge.ConsentRequest{})
		if err != nil || ok != want {
			t.Errorf("%q: %v %v", in, ok, err)
		}
	}
}

// transacting is the simulator with PC/SC-like transactions, recording
// whether one is held.
type transacting struct {
	*simulator.Card
	mu   sync.Mutex
	held bool
	n    int
}

func (c *transacting) Begin(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = true
	c.n++
	return nil
}

func (c *transacting) End() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	return nil
}

func (c *transacting) holding() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// The holder is asked while no card transaction is held: the card stays
// free for other applications while the PIN is typed.
func TestSecretsAreAskedOutsideTheCardTransaction(t *testing.T) {
	card := &transacting{Card: simtest.Sim(t, simtest.Image(t))}
	local := bridge.NewLocalReaders()
	if err := local.Add("tx", card, true); err != nil {
		t.Fatal(err)
	}
	lg, err := accesslog.Open(t.TempDir(), accesslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	var pmu sync.Mutex
	var heldAtPrompt []bool
	prompts := func() []bool {
		pmu.Lock()
		defer pmu.Unlock()
		return append([]bool(nil), heldAtPrompt...)
	}
	answer := pin.PromptFunc(func(_ context.Context, r pin.Request) ([]byte, error) {
		pmu.Lock()
		heldAtPrompt = append(heldAtPrompt, card.holding())
		pmu.Unlock()
		return []byte(simtest.PIN), nil
	})
	ln, err := bridge.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := bridge.New(bridge.Options{Addr: ln.Addr().String(), Backend: local, Log: lg, Consent: &bridge.PromptConsent{Prompter: answer}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	tok, err := b.AppToken("terminal-test")
	if err != nil {
		t.Fatal(err)
	}
	var rec *httptest.ResponseRecorder
	deadline := time.Now().Add(10 * time.Second)
	for {
		req := httptest.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/readers/tx/read", strings.NewReader(`{"parts":["text"]}`))
		req.RemoteAddr = "127.0.0.1:1"
		req.Header.Set("Authorization", "Bearer "+tok)
		rec = httptest.NewRecorder()
		b.ServeHTTP(rec, req)
		noCardYet := rec.Code == 409 && strings.Contains(rec.Body.String(), `"no-card"`)
		if (rec.Code != 404 && !noCardYet) || time.Now().After(deadline) {
			break // 404 until the bridge has seen the reader, 409 no-card until it has seen the card
		}
		time.Sleep(5 * time.Millisecond)
	}
	if rec.Code != 200 && rec.Code != 202 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	deadline = time.Now().Add(10 * time.Second)
	for len(prompts()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if p := prompts(); len(p) != 1 || p[0] {
		t.Fatalf("prompts %v (true: a transaction was held)", p)
	}
	if card.n < 2 {
		t.Fatalf("%d transactions: the read did not go on after the prompt in a new one", card.n)
	}
}
