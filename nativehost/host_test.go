package nativehost_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/nativehost"
	"github.com/mynakit/mynakit/webeid"
)

const origin = "https://portal.example.jp"

func frame(v any) []byte {
	b, _ := json.Marshal(v)
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(b)))
	return append(out, b...)
}

// session runs the host over in and returns every reply it wrote, and
// Serve's result.
func session(t *testing.T, in io.Reader, opts nativehost.Options) ([]map[string]any, error) {
	t.Helper()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- nativehost.Serve(context.Background(), in, &out, opts) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the host hangs")
	}
	var replies []map[string]any
	for r := bytes.NewReader(out.Bytes()); r.Len() > 0; {
		b, rerr := nativehost.ReadMessage(r)
		if rerr != nil {
			t.Fatalf("reply framing: %v", rerr)
		}
		var m map[string]any
		if jerr := json.Unmarshal(b, &m); jerr != nil {
			t.Fatalf("reply is not JSON: %s", b)
		}
		replies = append(replies, m)
	}
	return replies, err
}

func opener(t *testing.T, answers ...string) (nativehost.Options, *simtest.Prompter) {
	p := simtest.NewPrompter(answers...)
	return nativehost.Options{
		Version:       "test",
		DigestOrigins: []string{origin},
		Open: func(ctx context.Context) (nativehost.Card, error) {
			c, err := mynakit.OpenTransport(simtest.Sim(t, simtest.Image(t)), "simulator", mynakit.OpenOptions{Prompter: p})
			if err != nil {
				return nil, err
			}
			return nativehost.FromCard(c), nil
		},
	}, p
}

func errorCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestAuthenticateTwiceWithOnePIN(t *testing.T) {
	v := &webeid.Validator{Origin: origin, Trust: simtest.Store(t), AllowTestAnchors: true}
	ctx := context.Background()
	n1, _ := v.IssueNonce(ctx)
	n2, _ := v.IssueNonce(ctx)
	var in bytes.Buffer
	for _, n := range []string{n1, n2} {
		in.Write(frame(map[string]any{"command": "authenticate", "arguments": map[string]string{"challengeNonce": n, "origin": origin, "lang": "ja"}}))
	}
	in.Write(frame(map[string]any{"command": "quit", "arguments": map[string]any{}}))
	opts, prompts := opener(t, simtest.PIN)
	replies, err := session(t, &in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 4 || replies[0]["version"] != "test" || len(replies[3]) != 0 {
		t.Fatalf("replies: %v", replies)
	}
	for i, n := range []string{n1, n2} {
		raw, _ := json.Marshal(replies[i+1])
		tok, err := webeid.ParseToken(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Validate(ctx, tok, n); err != nil {
			t.Fatalf("token %d does not validate: %v (%s)", i, err, raw)
		}
	}
	if prompts.Count() != 1 {
		t.Fatalf("PIN asked %d times for one connection, want 1", prompts.Count())
	}
}

func TestSignNeedsAnAllowedOrigin(t *testing.T) {
	digest := sha256.Sum256([]byte("document"))
	var in bytes.Buffer
	in.Write(frame(map[string]any{"command": "get-signing-certificate", "arguments": map[string]string{"origin": origin}}))
	opts, _ := opener(t, simtest.SignPassword)
	// First pass: learn the certificate.
	replies, err := session(t, bytes.NewReader(in.Bytes()), opts)
	if err != nil || len(replies) != 2 {
		t.Fatalf("%v %v", replies, err)
	}
	certB64, _ := replies[1]["certificate"].(string)
	algs, _ := replies[1]["supportedSignatureAlgorithms"].([]any)
	if certB64 == "" || len(algs) != 3 {
		t.Fatalf("get-signing-certificate: %v", replies[1])
	}
	der, _ := base64.StdEncoding.DecodeString(certB64)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	signReq := func(o string) []byte {
		return frame(map[string]any{"command": "sign", "arguments": map[string]string{
			"origin": o, "certificate": certB64, "hash": base64.StdEncoding.EncodeToString(digest[:]), "hashFunction": "SHA-256"}})
	}
	var in2 bytes.Buffer
	in2.Write(signReq(origin))
	in2.Write(signReq("https://elsewhere.example.jp"))
	opts2, _ := opener(t, simtest.SignPassword)
	replies, err = session(t, &in2, opts2)
	if err != nil || len(replies) != 3 {
		t.Fatalf("%v %v", replies, err)
	}
	sig, _ := base64.StdEncoding.DecodeString(replies[1]["signature"].(string))
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if errorCode(replies[2]) != nativehost.CodeFatal || !strings.Contains(replies[2]["error"].(map[string]any)["message"].(string), "not allowed") {
		t.Fatalf("digest from an origin not allowed: %v", replies[2])
	}
}

func TestHostileFramesEndCleanly(t *testing.T) {
	opts, prompts := opener(t)
	huge := binary.LittleEndian.AppendUint32(nil, 0xFFFFFFF0)
	replies, err := session(t, bytes.NewReader(huge), opts)
	if !errors.Is(err, nativehost.ErrTooLarge) || len(replies) != 2 || errorCode(replies[1]) != nativehost.CodeFatal {
		t.Fatalf("huge length: %v %v", replies, err)
	}
	truncated := append(binary.LittleEndian.AppendUint32(nil, 100), []byte(`{"command":`)...)
	replies, err = session(t, bytes.NewReader(truncated), opts)
	if !errors.Is(err, nativehost.ErrTruncated) || len(replies) != 2 {
		t.Fatalf("truncated: %v %v", replies, err)
	}
	var in bytes.Buffer
	in.Write(binary.LittleEndian.AppendUint32(nil, 5))
	in.WriteString("{nope")
	in.Write(frame(map[string]any{"command": "format-disk", "arguments": map[string]string{"origin": origin}}))
	in.Write(frame(map[string]any{"command": "authenticate", "arguments": map[string]string{"origin": origin, "challengeNonce": "c2hvcnQ="}}))
	in.Write(frame(map[string]any{"command": "authenticate", "arguments": map[string]string{"origin": "http://evil.example", "challengeNonce": base64.StdEncoding.EncodeToString(make([]byte, 32))}}))
	replies, err = session(t, &in, opts)
	if err != nil || len(replies) != 5 {
		t.Fatalf("bad commands: %v %v", replies, err)
	}
	for i, r := range replies[1:] {
		if errorCode(r) != nativehost.CodeInvalidArgument {
			t.Errorf("reply %d: %v, want %s", i+1, r, nativehost.CodeInvalidArgument)
		}
	}
	if prompts.Count() != 0 {
		t.Fatalf("a bad command asked for a PIN")
	}
}

func TestLaunchedByBrowser(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"chrome-extension://ncibgoaomkmdpilpocfeponihegamlic/"}, true},
		{[]string{"chrome-extension://abc/", "--parent-window=0"}, true},
		{[]string{"/home/u/.mozilla/native-messaging-hosts/eu.webeid.json", "{e68418bc-f2b0-4459-a9ea-3e72b6751b07}"}, true},
		{[]string{"read"}, false},
		{nil, false},
	} {
		if got := nativehost.LaunchedByBrowser(c.args); got != c.want {
			t.Errorf("%v: %v", c.args, got)
		}
	}
}
