package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
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
// simulator until the test ends, with its runtime directory in runDir, and
// returns the counter page's URL.
func serveSim(t *testing.T, runDir, stdin string, args ...string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	root := newRootCmd(strings.NewReader(stdin), &out, &errb)
	root.SetArgs(append([]string{"--simulator", "serve", "--addr", "127.0.0.1:0", "--run-dir", runDir}, args...))
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
	return getWith(t, http.DefaultClient, url, headers)
}

func getWith(t *testing.T, client *http.Client, url string, headers map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
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
	runDir := filepath.Join(t.TempDir(), "run")
	base, _ := serveSim(t, runDir, "1234\n", "--prompt", "terminal", "--pin-stdin", "--access-log", logDir)
	// The counter page holds no token; a local application derives its
	// own from the launch secret, which only this OS user can read.
	if code, page := get(t, base+"/", nil); code != http.StatusOK || bytes.Contains(page, []byte("mynakit-token")) || bytes.Contains(page, []byte("csrf")) {
		t.Fatalf("counter page without the session: %d %s", code, page)
	}
	launch, err := bridge.ReadLaunch(runDir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := launch.AppToken("serve-test")
	if err != nil {
		t.Fatal(err)
	}
	self := map[string]string{"Authorization": "Bearer " + tok}
	waitCardPresent(t, base)
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
	// The card status over the Unix domain socket, the local
	// applications' transport.
	if launch.Socket == "" {
		t.Fatal("no socket in the launch file")
	}
	overSocket := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", launch.Socket)
	}}}
	if code, b := getWith(t, overSocket, "http://mynakit/v1/readers/0/card", self); code != 200 || !strings.Contains(string(b), `"card_present":true`) {
		t.Fatalf("status over the socket: %d %s", code, b)
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

// waitCardPresent waits until the bridge lists the simulator's card as
// present (the reader's name alone comes first, before the card).
func waitCardPresent(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var rs struct {
			Readers []struct {
				CardPresent bool `json:"card_present"`
			} `json:"readers"`
		}
		code, body := get(t, base+"/v1/readers", nil)
		if code == 200 && json.Unmarshal(body, &rs) == nil && len(rs.Readers) > 0 && rs.Readers[0].CardPresent {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the card never showed as present")
}

// mynakit open gives one-time URLs to the counter page, their ticket in
// the fragment: the page's script exchanges it once for a session token
// (never a cookie), which works as a bearer token from the bridge's page.
func TestServeOpenGivesAOneTimeURL(t *testing.T) {
	runDir := filepath.Join(t.TempDir(), "run")
	base, _ := serveSim(t, runDir, "", "--access-log", t.TempDir())
	out, errs, code := run(t, "", "open", "--print", "--run-dir", runDir)
	u := strings.TrimSpace(out)
	ticket, ok := strings.CutPrefix(u, base+"/#ticket=")
	if code != 0 || !ok || ticket == "" {
		t.Fatalf("open: exit %d: %q %s", code, out, errs)
	}
	redeem := func() (int, string) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"ticket": ticket})
		req, _ := http.NewRequest("POST", base+"/v1/session", bytes.NewReader(body))
		req.Header.Set("Origin", base)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("a cookie: %v", resp.Header.Values("Set-Cookie"))
		}
		var v struct {
			Session string `json:"session"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v.Session
	}
	status, tok := redeem()
	if status != http.StatusOK || tok == "" {
		t.Fatalf("first use: %d", status)
	}
	session := map[string]string{"Authorization": "Bearer " + tok, "Origin": base, "Sec-Fetch-Site": "same-origin"}
	if code, _ := get(t, base+"/v1/consents", session); code != 200 {
		t.Fatalf("the session: %d", code)
	}
	if status, _ := redeem(); status != http.StatusForbidden {
		t.Fatalf("second use of the one-time URL: %d", status)
	}
	// A local application's token, printed for it.
	out, _, code = run(t, "", "open", "--app-token", "billing", "--run-dir", runDir)
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "app.billing.") {
		t.Fatalf("--app-token: exit %d: %q", code, out)
	}
	if code, _ := get(t, base+"/v1/readers/0/card", map[string]string{"Authorization": "Bearer " + strings.TrimSpace(out)}); code != 200 && code != 202 {
		t.Fatalf("with the app token: %d", code)
	}
}

// serve refuses a runtime directory another user could look into.
func TestServeRefusesAnOpenRuntimeDirectory(t *testing.T) {
	runDir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, "", "--simulator", "serve", "--addr", "127.0.0.1:0", "--run-dir", runDir, "--access-log", t.TempDir())
	if code != exitError3 || !strings.Contains(errs, "0700") {
		t.Fatalf("exit %d: %s", code, errs)
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
