package bridge_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynakit/mynakit/bridge"
)

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd here")
	}
	return len(ents)
}

// settle waits until f() is at most limit, and reports the last value.
func settle(limit int, f func() int) int {
	deadline := time.Now().Add(15 * time.Second)
	n := f()
	for n > limit && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n = f()
	}
	return n
}

// 200 clients at once on one reader: each gets its answer or a documented
// 429/503, and nothing is left behind afterwards.
func TestQueueUnder200Clients(t *testing.T) {
	baseG := runtime.NumGoroutine()
	baseFD := openFDs(t)
	e := start(t, withTerminal(), withOptions(func(o *bridge.Options) { o.QueueDepth = 40 }))
	tok := e.pair(appOrigin)
	const clients = 200
	statuses := make([]int, clients)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var r response
			switch i % 4 {
			case 0:
				r = e.do("GET", "/v1/readers/sim/card", nil, app(tok))
			case 1:
				// Identifies the card, so it asks the terminal first: 200, or
				// 202 and then the operation's result.
				h := app(tok)
				r = e.follow(e.do("GET", "/v1/readers/sim/certificates/auth", nil, h), h)
			case 2:
				r = e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["common"]}`), app(tok))
			case 3:
				// Needs the PIN, answered at the terminal: 200, or 202 and
				// then the operation's result.
				h := app(tok)
				r = e.follow(e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["text"]}`), h), h)
			}
			statuses[i] = r.status
			switch r.status {
			case 200:
			case 429, 503:
				if r.header.Get("Retry-After") == "" {
					t.Errorf("client %d: %d without Retry-After", i, r.status)
				}
				code := decodeJSON(t, r.body)["error"].(map[string]any)["code"]
				if code != "busy" && code != "queue-timeout" {
					t.Errorf("client %d: %d %v", i, r.status, code)
				}
			default:
				t.Errorf("client %d (%d): unexpected %d %s", i, i%4, r.status, r.body)
			}
		}(i)
	}
	t0 := time.Now()
	wg.Wait()
	t.Logf("clients done after %v", time.Since(t0))
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[200] == 0 {
		t.Fatalf("nobody got an answer: %v", count)
	}
	t.Logf("answers: %v", count)
	t1 := time.Now()
	e.stop()
	t.Logf("stopped after %v", time.Since(t1))
	if g := settle(baseG, runtime.NumGoroutine); g > baseG {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("%d goroutines left behind (%d before):\n%s", g-baseG, baseG, stacks(buf[:n]))
	}
	if fd := settle(baseFD, func() int { return openFDs(t) }); fd > baseFD {
		t.Fatalf("%d file descriptors left behind", fd-baseFD)
	}
}

func stacks(b []byte) string {
	var out []string
	for _, s := range strings.Split(string(b), "\n\n") {
		if strings.Contains(s, "mynakit") {
			out = append(out, s)
		}
	}
	return fmt.Sprint(strings.Join(out, "\n\n"))
}

// An operation waiting for the holder keeps its reader; another waits at
// most QueueWait and is told the reader waits for consent (409
// waiting-for-consent, not 503).
func TestQueueWaitIsBounded(t *testing.T) {
	e := start(t, withOptions(func(o *bridge.Options) { o.QueueWait = 30 * time.Millisecond }))
	tok := e.pair(appOrigin)
	r := e.do("POST", "/v1/readers/sim/read", nil, app(tok))
	if r.status != 202 {
		t.Fatalf("%d", r.status)
	}
	s := e.do("GET", "/v1/readers/sim/card", nil, app(tok))
	if s.status != 409 || s.header.Get("Retry-After") == "" || decodeJSON(t, s.body)["error"].(map[string]any)["code"] != "waiting-for-consent" {
		t.Fatalf("%d %s", s.status, s.body)
	}
}

// An event stream outlives the server's read and write timeouts (which
// bound one request's reading and answering, not a stream).
func TestEventStreamOutlivesTheServerTimeouts(t *testing.T) {
	e := start(t, withoutCard(), withHook(func(b *bridge.Bridge) { bridge.SetServerTimeouts(b, 100*time.Millisecond) }))
	tok := e.pair(appOrigin)
	evs := e.events(app(tok))
	evs.until(t, func(ev sse) bool { return ev.name == "reader-added" })
	time.Sleep(300 * time.Millisecond) // past both timeouts
	if err := e.local.Insert(simReader); err != nil {
		t.Fatal(err)
	}
	evs.until(t, func(ev sse) bool { return ev.name == "card-inserted" })
}
