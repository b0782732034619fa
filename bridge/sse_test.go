package bridge_test

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"time"
)

// readSSE calls fn for each event of a text/event-stream.
func readSSE(r io.Reader, fn func(name string, data []byte)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	name, data := "message", []byte(nil)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if data != nil {
				fn(name, data)
			}
			name, data = "message", nil
		case bytes.HasPrefix(line, []byte("event: ")):
			name = string(line[7:])
		case bytes.HasPrefix(line, []byte("data: ")):
			data = append(data, line[6:]...)
		}
	}
}

func timer(t testing.TB) <-chan time.Time {
	t.Helper()
	return time.After(30 * time.Second)
}

// A local application is a principal of its own: the facts of its read
// (name, address, My Number) go to its own streams only, never to a paired
// web page's (nor to another local application's). Reader changes go to
// both.
func TestLocalAppEventsStayWithTheLocalApp(t *testing.T) {
	e := start(t, withTerminal())
	web := e.pair(appOrigin)
	tok := e.appToken("billing")
	webStream := e.events(app(web))
	localStream := e.events(local(tok))
	localHeaders := local(tok)
	r := e.follow(e.do("POST", "/v1/readers/sim/read", []byte(`{}`), localHeaders), localHeaders)
	if r.status != 200 {
		t.Fatalf("local read: %d %s", r.status, r.body)
	}
	localStream.until(t, func(ev sse) bool { return ev.name == "facts" })
	if err := e.local.Remove(simReader); err != nil {
		t.Fatal(err)
	}
	for _, ev := range webStream.until(t, func(ev sse) bool { return ev.name == "card-removed" }) {
		switch ev.name {
		case "facts", "operation", "progress":
			t.Fatalf("the web page's stream received the local app's %q event: %v", ev.name, ev.data)
		}
	}
	localStream.until(t, func(ev sse) bool { return ev.name == "card-removed" })
}
