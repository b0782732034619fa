package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/simulator/persona"
)

// lockedBuffer is written by the command while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveSim runs mynakit serve on a free port against the in-process
// simulator until the test ends, and returns the counter page's URL.
func serveSim(t *testing.T, stdin string, args ...string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	root := newRootCmd(strings.NewReader(stdin), &out, &errb)
	root.SetArgs(append([]string{"--simulator", "serve", "--addr", "127.0.0.1:0"}, args...))
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v\n%s", err, errb.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	re := regexp.MustCompile(`counter page: (http://127\.0\.0\.1:\d+)/`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], &errb
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no URL printed: %q %q", out.String(), errb.String())
	return "", nil
}

func get(t *testing.T, url string, headers map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestServeRefusesANonLoopbackAddress(t *testing.T) {
	_, errs, code := run(t, "", "--simulator", "serve", "--addr", "0.0.0.0:7457", "--access-log", t.TempDir())
	if code != exitError3 || !strings.Contains(errs, "loopback") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, errs, code = run(t, "", "--simulator", "--allow-last-try", "serve", "--addr", "127.0.0.1:0", "--access-log", t.TempDir())
	if code != exitError3 || !strings.Contains(errs, "last try") {
		t.Fatalf("--allow-last-try: exit %d: %s", code, errs)
	}
	_, errs, code = run(t, "", "--simulator", "serve", "--addr", "127.0.0.1:0", "--prompt", "nowhere", "--access-log", t.TempDir())
	if code != exitError3 || !strings.Contains(errs, "--prompt") {
		t.Fatalf("--prompt: exit %d: %s", code, errs)
	}
}

// serve with --prompt terminal reads the PIN here; the access log it
// leaves verifies, lists the card's operations, and fails once tampered.
func TestServeAndTheAccessLog(t *testing.T) {
	logDir := t.TempDir()
	base, _ := serveSim(t, "1234\n", "--prompt", "terminal", "--pin-stdin", "--access-log", logDir)
	code, page := get(t, base+"/", nil)
	m := regexp.MustCompile(`name="mynakit-token" content="([^"]+)"`).FindSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("counter page: %d", code)
	}
	self := map[string]string{"Origin": base, "Authorization": "Bearer " + string(m[1])}
	code, body := get(t, base+"/v1/readers", nil)
	if code != 200 || !strings.Contains(string(body), "mynakit in-process simulator") {
		t.Fatalf("readers: %d %s", code, body)
	}
	// A read: the PIN comes from standard input, as typed at the terminal.
	req, _ := http.NewRequest("POST", base+"/v1/readers/0/read", strings.NewReader(`{"parts":["text"]}`))
	for k, v := range self {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var op map[string]any
	json.NewDecoder(resp.Body).Decode(&op)
	resp.Body.Close()
	if resp.StatusCode == http.StatusAccepted {
		id := op["id"].(string)
		deadline := time.Now().Add(10 * time.Second)
		for op["state"] != "done" && time.Now().Before(deadline) {
			_, b := get(t, base+"/v1/operations/"+id, self)
			op = map[string]any{}
			json.Unmarshal(b, &op)
			if op["state"] == "failed" {
				t.Fatalf("read failed: %v", op)
			}
			time.Sleep(5 * time.Millisecond)
		}
	} else if resp.StatusCode != http.StatusOK {
		t.Fatalf("read: %d %v", resp.StatusCode, op)
	}
	if code, _ := get(t, base+"/v1/readers/0/card", self); code != 200 {
		t.Fatalf("status: %d", code)
	}

	out, errs, code := run(t, "", "log", "--verify", "--access-log", logDir)
	if code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("log --verify: exit %d: %s %s", code, out, errs)
	}
	out, errs, code = run(t, "", "log", "--access-log", logDir)
	if code != 0 || !strings.Contains(out, "read") || !strings.Contains(out, "status") || !strings.Contains(out, "真正 genuine") {
		t.Fatalf("log: exit %d:\n%s%s", code, out, errs)
	}
	// The holder of the card sees its operations.
	out, errs, code = run(t, "", "--simulator", "log", "--card", "--json", "--access-log", logDir)
	if code != 0 {
		t.Fatalf("log --card: exit %d: %s", code, errs)
	}
	var entries []accesslog.Entry
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e accesslog.Entry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("entry %q: %v", l, err)
		}
		entries = append(entries, e)
	}
	ops, _ := accesslog.Operations(entries)
	if len(ops) != 2 || ops[0].Begin.Action != "read" || ops[1].Begin.Action != "status" {
		t.Fatalf("the card's operations: %+v", ops)
	}
	for _, o := range ops {
		if o.Card() == "" || o.Card() != ops[0].Card() || o.End == nil {
			t.Fatalf("operation %+v", o)
		}
	}
	// Another card has none.
	other := filepath.Join(t.TempDir(), "other.json")
	writeOther(t, other)
	out, _, code = run(t, "", "--sim-image", other, "log", "--card", "--access-log", logDir)
	if code != 0 || !strings.Contains(out, "no records") {
		t.Fatalf("another card: exit %d: %s", code, out)
	}
	otherLog := filepath.Join(logDir, accesslog.FileName)
	b, err := os.ReadFile(otherLog)
	if err != nil {
		t.Fatal(err)
	}
	// Tamper with an old entry: verification fails and names it.
	i := bytes.Index(b, []byte(`"action":"read"`))
	if i < 0 {
		t.Fatalf("no read entry in %s", b)
	}
	b[i+len(`"action":"`)] = 'R'
	if err := os.WriteFile(otherLog, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "", "log", "--verify", "--access-log", logDir)
	if code != 1 || !strings.Contains(out, "altered") || !strings.Contains(out, "damaged") {
		t.Fatalf("tampered log: exit %d: %s", code, out)
	}
	out, _, code = run(t, "", "log", "--verify", "--json", "--access-log", logDir)
	var rep struct {
		Intact   bool `json:"intact"`
		Problems []struct {
			Entry int    `json:"entry"`
			Kind  string `json:"kind"`
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.Intact || len(rep.Problems) != 1 || rep.Problems[0].Kind != "altered" {
		t.Fatalf("exit %d %+v %v", code, rep, err)
	}
}

func TestLogWithoutALog(t *testing.T) {
	_, errs, code := run(t, "", "log", "--access-log", t.TempDir())
	if code != exitError3 || !strings.Contains(errs, "no access log") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func writeOther(t *testing.T, path string) {
	t.Helper()
	img := simtest.Image(t, func(p *persona.Persona) { p.Serial = "400000099999999" })
	b, err := img.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
