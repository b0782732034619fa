package main

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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/nativehost"
	"github.com/mynakit/mynakit/webeid"
)

const rpOrigin = "https://portal.example.jp"

func rpValidator(t *testing.T) *webeid.Validator {
	return &webeid.Validator{Origin: rpOrigin, Trust: simtest.Store(t), AllowTestAnchors: true}
}

func TestAuthenticateCommandMakesAValidToken(t *testing.T) {
	v := rpValidator(t)
	nonce, _ := v.IssueNonce(context.Background())
	out, errs, code := run(t, simtest.PIN+"\n", "--simulator", "--pin-stdin", "authenticate", "--origin", rpOrigin, "--nonce", nonce, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	tok, err := webeid.ParseToken([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), tok, nonce); err != nil {
		t.Fatalf("the token does not validate: %v\n%s", err, out)
	}
	if strings.Contains(out+errs, simtest.PIN+"\n") {
		t.Fatal("the PIN was echoed")
	}
	_, errs, code = run(t, simtest.PIN+"\n", "--simulator", "--pin-stdin", "authenticate", "--origin", rpOrigin, "--nonce", "c2hvcnQ=")
	if code != exitError3 || !strings.Contains(errs, "bits") {
		t.Fatalf("short nonce: exit %d: %s", code, errs)
	}
}

// fakePinentry answers the signing password when the dialog's prompt names
// it, and the PIN otherwise.
func fakePinentry(t *testing.T) string {
	t.Helper()
	prog := filepath.Join(t.TempDir(), "pinentry")
	script := `#!/bin/sh
echo "OK ready"
kind=pin
while read -r cmd rest; do
  case "$cmd" in
    SETPROMPT) case "$rest" in *署名用パスワード*) kind=sign ;; esac; echo OK ;;
    GETPIN) if [ $kind = sign ]; then echo "D ` + simtest.SignPassword + `"; else echo "D ` + simtest.PIN + `"; fi; echo OK ;;
    BYE) echo OK; exit 0 ;;
    *) echo OK ;;
  esac
done
`
	if err := os.WriteFile(prog, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return prog
}

func frameMsg(v any) []byte {
	b, _ := json.Marshal(v)
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// The native-messaging harness: authenticate and sign through the
// native-host command against the simulator, in Web eID's framing.
func TestNativeHostAuthenticatesAndSigns(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	v := rpValidator(t)
	nonce, _ := v.IssueNonce(context.Background())
	var in bytes.Buffer
	in.Write(frameMsg(map[string]any{"command": "authenticate", "arguments": map[string]string{"challengeNonce": nonce, "origin": rpOrigin, "lang": "ja"}}))
	in.Write(frameMsg(map[string]any{"command": "get-signing-certificate", "arguments": map[string]string{"origin": rpOrigin}}))
	in.Write(frameMsg(map[string]any{"command": "quit", "arguments": map[string]any{}}))
	out, errs, code := run(t, in.String(), "--simulator", "native-host", "--pinentry", fakePinentry(t), "--allow-digest-origin", rpOrigin)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	replies := readFrames(t, out)
	if len(replies) != 4 {
		t.Fatalf("replies: %s", out)
	}
	tok, err := webeid.ParseToken(replies[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), tok, nonce); err != nil {
		t.Fatalf("native-host token does not validate: %v", err)
	}
	var certReply struct {
		Certificate string `json:"certificate"`
	}
	if err := json.Unmarshal(replies[2], &certReply); err != nil || certReply.Certificate == "" {
		t.Fatalf("get-signing-certificate: %s", replies[2])
	}

	digest := sha256.Sum256([]byte("契約書"))
	in.Reset()
	in.Write(frameMsg(map[string]any{"command": "sign", "arguments": map[string]string{"origin": rpOrigin, "certificate": certReply.Certificate, "hash": base64.StdEncoding.EncodeToString(digest[:]), "hashFunction": "SHA-256"}}))
	out, errs, code = run(t, in.String(), "--simulator", "native-host", "--pinentry", fakePinentry(t), "--allow-digest-origin", rpOrigin)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	replies = readFrames(t, out)
	var signReply struct {
		Signature string `json:"signature"`
	}
	if len(replies) != 2 || json.Unmarshal(replies[1], &signReply) != nil {
		t.Fatalf("sign: %s", out)
	}
	sig, _ := base64.StdEncoding.DecodeString(signReply.Signature)
	der, _ := base64.StdEncoding.DecodeString(certReply.Certificate)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("native-host signature: %v", err)
	}
}

func readFrames(t *testing.T, out string) [][]byte {
	t.Helper()
	var frames [][]byte
	for r := strings.NewReader(out); r.Len() > 0; {
		b, err := nativehost.ReadMessage(r)
		if err != nil {
			t.Fatalf("frame: %v", err)
		}
		frames = append(frames, b)
	}
	return frames
}

func TestNativeHostInstall(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	out, errs, code := run(t, "", "native-host", "--install", "--browser", "chromium", "--browser", "firefox")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, p := range []string{".config/chromium/NativeMessagingHosts/eu.webeid.json", ".mozilla/native-messaging-hosts/eu.webeid.json"} {
		if _, err := os.Stat(filepath.Join(home, p)); err != nil {
			t.Errorf("%s: %v\n%s", p, err, out)
		}
	}
	if _, errs, code = run(t, "", "native-host", "--uninstall", "--browser", "chromium"); code != 0 {
		t.Fatalf("uninstall: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(home, ".config/chromium/NativeMessagingHosts/eu.webeid.json")); err == nil {
		t.Error("uninstall left the manifest")
	}
}
