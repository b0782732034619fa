package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

// bridgeOverPCSC runs the bridge in this process on PC/SC, with the
// simulator's test anchors named (as --trust-dir does) and the PIN given at
// the "terminal".
type bridgeOverPCSC struct {
	url, token string
	stop       func()
}

func startBridge(t *testing.T) *bridgeOverPCSC {
	t.Helper()
	ln, err := bridge.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lg, err := accesslog.Open(t.TempDir(), accesslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	answer := pin.PromptFunc(func(_ context.Context, r pin.Request) ([]byte, error) {
		if r.Kind == myna.ShortPIN {
			return []byte("1234"), nil
		}
		return nil, pin.ErrNoSecret
	})
	b, err := bridge.New(bridge.Options{
		Addr: ln.Addr().String(), Log: lg, Backend: bridge.PCSC{Retry: 200 * time.Millisecond},
		TrustDirs: []string{repoFile("simulator/testdata/trust")},
		Consent:   &bridge.PromptConsent{Prompter: answer},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	s := &bridgeOverPCSC{url: "http://" + ln.Addr().String()}
	s.stop = func() {
		cancel()
		<-done
		lg.Close()
	}
	t.Cleanup(s.stop)
	// A local application of this OS user: its token is derived from the
	// launch secret, and it sends no Origin.
	if s.token, err = b.AppToken("e2e"); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *bridgeOverPCSC) request(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *bridgeOverPCSC) get(t *testing.T, path string) (int, string) {
	return s.request(t, "GET", path, "")
}

// waitReaders waits until GET /v1/readers shows the reader with a card, or
// (name "") no reader at all.
func (s *bridgeOverPCSC) waitReaders(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		_, body := s.get(t, "/v1/readers")
		last = body
		var v struct {
			Readers []struct {
				Name        string `json:"name"`
				CardPresent bool   `json:"card_present"`
			} `json:"readers"`
		}
		_ = json.Unmarshal([]byte(body), &v)
		if name == "" && len(v.Readers) == 0 {
			return
		}
		for _, r := range v.Readers {
			if r.Name == name && r.CardPresent {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("readers: want %q, have %s", name, last)
}

// read reads the card through the bridge and returns the verdict.
func (s *bridgeOverPCSC) read(t *testing.T, reader string) string {
	t.Helper()
	code, body := s.request(t, "POST", "/v1/readers/"+url.PathEscape(reader)+"/read", `{"parts":["text","surface"]}`)
	var op map[string]any
	_ = json.Unmarshal([]byte(body), &op)
	if code == http.StatusAccepted {
		id := op["id"].(string)
		deadline := time.Now().Add(30 * time.Second)
		for op["state"] != "done" && time.Now().Before(deadline) {
			if op["state"] == "failed" || op["state"] == "cancelled" {
				t.Fatalf("read: %v", op)
			}
			time.Sleep(20 * time.Millisecond)
			_, b := s.get(t, "/v1/operations/"+id)
			op = map[string]any{}
			_ = json.Unmarshal([]byte(b), &op)
		}
		r, _ := op["result"].(map[string]any)
		if r == nil {
			t.Fatalf("no result: %v", op)
		}
		op = r
	} else if code != http.StatusOK {
		t.Fatalf("read: %d %s", code, body)
	}
	v, _ := op["verification"].(map[string]any)
	if v == nil {
		t.Fatalf("no verification: %v", op)
	}
	return v["verdict"].(string)
}

// TestBridgeOverPCSCFindsReadersAgainAfterPcscdRestarts: the bridge reads
// the simulated card behind pcscd; when pcscd stops, the reader leaves the
// bridge's list; when it is back, the bridge finds it on its own and reads
// again.
func TestBridgeOverPCSCFindsReadersAgainAfterPcscdRestarts(t *testing.T) {
	_, path := defaultImage(t)
	s := startDefaultMode(t, "--image", path)
	b := startBridge(t)
	b.waitReaders(t, s.reader)
	if v := b.read(t, s.reader); v != "genuine" {
		t.Fatalf("verdict %q through the bridge (with the test anchors named)", v)
	}
	if code, body := b.get(t, "/v1/readers/"+url.PathEscape(s.reader)+"/card"); code != 200 || !strings.Contains(body, "jpki-auth-pin") {
		t.Fatalf("status: %d %s", code, body)
	}
	s.stop(t)
	b.waitReaders(t, "")
	s2 := startDefaultMode(t, "--image", path)
	b.waitReaders(t, s2.reader)
	if v := b.read(t, s2.reader); v != "genuine" {
		t.Fatalf("after pcscd restarted: verdict %q", v)
	}
}
