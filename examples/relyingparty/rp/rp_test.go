package rp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/examples/relyingparty/rp"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/trust"
	"github.com/mynakit/mynakit/webeid"
)

// server starts the relying party for origin, trusting the simulator's
// anchors loaded the way --test-anchors loads them.
func server(t *testing.T, origin string, testAnchors bool) (*httptest.Server, *http.Client) {
	t.Helper()
	store := trust.Embedded()
	if err := store.AddDir(filepath.Join("..", "..", "..", "simulator", "testdata", "trust")); err != nil {
		t.Fatal(err)
	}
	s, err := rp.New(rp.Config{Origin: origin, Bridge: "http://127.0.0.1:1", Trust: store, AllowTestAnchors: testAnchors})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	return ts, &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, url string) (int, []byte) {
	t.Helper()
	r, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, b
}

func post(t *testing.T, c *http.Client, url string, body []byte) (int, map[string]any) {
	t.Helper()
	r, err := c.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(r.Body).Decode(&v)
	return r.StatusCode, v
}

// token has the simulated card sign the challenge for origin.
func token(t *testing.T, origin, nonce string) []byte {
	t.Helper()
	card := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN)})
	tok, err := webeid.Authenticate(context.Background(), card, origin, nonce)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(tok)
	return b
}

func challenge(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	code, b := get(t, c, base+"/challenge")
	var v struct{ Nonce string }
	if code != 200 || json.Unmarshal(b, &v) != nil || webeid.CheckNonce(v.Nonce) != nil {
		t.Fatalf("challenge: %d %s", code, b)
	}
	return v.Nonce
}

// The login steps: a challenge bound to the session, a token for this
// origin validates once and shows the identity; a token for another
// origin, a reused challenge, and a login without a session are refused.
func TestLogin(t *testing.T) {
	ts, c := server(t, "http://127.0.0.1:8080", true)
	nonce := challenge(t, c, ts.URL)
	tok := token(t, "http://127.0.0.1:8080", nonce)
	code, v := post(t, c, ts.URL+"/login", tok)
	if code != 200 || v["serial_number"] == "" || v["production"] != false || v["revocation"] != "not-checked" || v["origin"] != "http://127.0.0.1:8080" {
		t.Fatalf("login: %d %v", code, v)
	}
	if code, v := post(t, c, ts.URL+"/login", tok); code != 401 {
		t.Fatalf("a reused challenge: %d %v", code, v)
	}
	nonce = challenge(t, c, ts.URL)
	if code, v := post(t, c, ts.URL+"/login", token(t, "https://evil.example", nonce)); code != 401 || !strings.Contains(v["error"].(string), "signature") {
		t.Fatalf("another origin's token: %d %v", code, v)
	}
	// Another browser (no session) cannot spend this session's challenge.
	nonce = challenge(t, c, ts.URL)
	if code, _ := post(t, http.DefaultClient, ts.URL+"/login", token(t, "http://127.0.0.1:8080", nonce)); code != 401 {
		t.Fatalf("without the session: %d", code)
	}
	// The page loads the client from this origin.
	if code, b := get(t, c, ts.URL+"/webeid.js"); code != 200 || !strings.Contains(string(b), "MynakitWebEid") {
		t.Fatalf("client: %d", code)
	}
	if code, b := get(t, c, ts.URL+"/"); code != 200 || !strings.Contains(string(b), `src="/webeid.js"`) || !strings.Contains(string(b), `data-bridge="http://127.0.0.1:1"`) {
		t.Fatalf("page: %d %s", code, b)
	}
}

// Without --test-anchors the simulator's card is not accepted.
func TestTestAnchorsAreOptIn(t *testing.T) {
	ts, c := server(t, "http://127.0.0.1:8080", false)
	nonce := challenge(t, c, ts.URL)
	if code, v := post(t, c, ts.URL+"/login", token(t, "http://127.0.0.1:8080", nonce)); code != 401 {
		t.Fatalf("a test card without AllowTestAnchors: %d %v", code, v)
	}
}

func TestNewRefusesBadOrigins(t *testing.T) {
	for _, o := range []string{"http://portal.example.jp", "https://portal.example.jp/login", ""} {
		if _, err := rp.New(rp.Config{Origin: o, Trust: trust.Embedded()}); err == nil {
			t.Errorf("%q accepted", o)
		}
	}
}
