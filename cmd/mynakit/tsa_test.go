package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

// newTSAServer is an RFC 3161 time-stamping authority of the test's own.
func newTSAServer(t *testing.T) (url, rootPEM string) {
	t.Helper()
	rootKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Now()
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test TSA root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, rt, rt, &rootKey.PublicKey, rootKey)
	root, _ := x509.ParseCertificate(der)
	ct := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "test TSA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}
	der, _ = x509.CreateCertificate(rand.Reader, ct, root, &key.PublicKey, rootKey)
	cert, _ := x509.ParseCertificate(der)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := timestamp.ParseRequest(body)
		if err != nil || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: time.Now(), Policy: []int{1, 2, 3, 4}, AddTSACertificate: true}
		resp, err := ts.CreateResponseWithOpts(cert, key, crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	p := filepath.Join(t.TempDir(), "tsa-root.pem")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o600)
	return srv.URL, p
}

// sign --tsa timestamps the signature; verify-signature uses the time only
// when the authority is trusted with --tsa-root.
func TestSignWithTimestamp(t *testing.T) {
	url, root := newTSAServer(t)
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("契約書\n"), 0o600)
	sig := filepath.Join(dir, "doc.p7s")
	if _, errs, code := run(t, "ABC123\n", "--simulator", "--pin-stdin", "sign", "--tsa", url, "--out", sig, doc); code != 0 {
		t.Fatalf("sign --tsa: exit %d %s", code, errs)
	}
	var v struct {
		Verdict   string `json:"verdict"`
		Timestamp string `json:"timestamp"`
		Ignored   string `json:"timestamp_ignored"`
	}
	out, _, code := run(t, "", "--simulator", "verify-signature", "--json", "--tsa-root", root, doc, sig)
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || v.Verdict != "genuine" || v.Timestamp == "" {
		t.Fatalf("with the TSA trusted: exit %d %+v %v\n%s", code, v, err, out)
	}
	out, _, code = run(t, "", "--simulator", "verify-signature", "--json", doc, sig)
	v = struct {
		Verdict   string `json:"verdict"`
		Timestamp string `json:"timestamp"`
		Ignored   string `json:"timestamp_ignored"`
	}{}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || v.Timestamp != "" || v.Ignored == "" {
		t.Fatalf("without --tsa-root: exit %d %+v %v", code, v, err)
	}
	if fi, _ := os.Stat(sig); fi.Mode().Perm() != 0o600 {
		t.Errorf("signature file mode %v", fi.Mode())
	}
}
