package present

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"testing"
	"time"

	"github.com/mynakit/mynakit/internal/golden"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pdfsig"
	"github.com/mynakit/mynakit/trust"
)

// testCert is a self-signed certificate with fixed names, dates, serial and
// key identifiers (the signature is deterministic too: Ed25519, fixed key).
func testCert(t *testing.T) *x509.Certificate {
	t.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(0x1A2B3C),
		Subject:        pkix.Name{CommonName: "見本 署名者", Organization: []string{"mynakit test"}},
		Issuer:         pkix.Name{CommonName: "見本 署名者", Organization: []string{"mynakit test"}},
		NotBefore:      time.Date(2025, 4, 1, 0, 0, 0, 0, time.FixedZone("JST", 9*3600)),
		NotAfter:       time.Date(2030, 3, 31, 23, 59, 59, 0, time.FixedZone("JST", 9*3600)),
		SubjectKeyId:   []byte{1, 2, 3, 4},
		AuthorityKeyId: []byte{5, 6, 7, 8},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var testChecks = []trust.Check{
	{Name: trust.CheckSignCert, Result: trust.Pass, Anchor: "test root", Detail: "chains to <the> root & more"},
}

// TestCertificateCheckJSON: the typed output is byte for byte the map the
// command-line tool built before it had a type (kept here as the
// reference), for a certificate with and without holder attributes.
func TestCertificateCheckJSON(t *testing.T) {
	cert := testCert(t)
	attrs := &jpki.Attributes{Name: "見本　花子", Sex: "female", Address: "東京都千代田区", NameSubstitution: "0000", BirthDate: myna.Date{Year: 1980, Month: time.February, Day: 17}}
	for _, tc := range []struct {
		name  string
		attrs *jpki.Attributes
		file  string
	}{
		{"auth", nil, "certificate-check.golden.json"},
		{"sign", attrs, "certificate-check-sign.golden.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := map[string]any{
				"certificate":      CertificateOf(cert),
				"subject_key_id":   hex.EncodeToString(cert.SubjectKeyId),
				"authority_key_id": hex.EncodeToString(cert.AuthorityKeyId),
				"verification":     map[string]any{"verdict": trust.Genuine, "checks": testChecks},
			}
			if at := tc.attrs; at != nil {
				m := map[string]any{"name": at.Name, "address": at.Address, "sex": at.Sex, "name_substitution": at.NameSubstitution, "address_substitution": at.AddressSubstitution}
				if !at.BirthDate.IsZero() {
					m["birth_date"] = at.BirthDate.String()
				}
				v["attributes"] = m
			}
			want := golden.Indented(t, v)
			got := golden.Indented(t, CertificateCheckOf(cert, trust.Genuine, testChecks, tc.attrs))
			if !bytes.Equal(got, want) {
				t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
			}
			golden.Check(t, tc.file, got)
		})
	}
}

// TestSignatureJSON: as TestCertificateCheckJSON, for a verified detached
// signature with every optional member, and with none.
func TestSignatureJSON(t *testing.T) {
	cert := testCert(t)
	full := &jpki.CMSResult{Signer: cert, SigningTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Timestamp: time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC), JudgedAt: time.Date(2026, 1, 2, 12, 5, 0, 0, time.FixedZone("JST", 9*3600)),
		TimestampNote: "", Warnings: []string{"SHA-1"}, Checks: testChecks, Verdict: trust.Genuine}
	bare := &jpki.CMSResult{Signer: cert, JudgedAt: full.JudgedAt, TimestampNote: "no trusted TSA root", Verdict: trust.Undecided}
	for _, tc := range []struct {
		name string
		res  *jpki.CMSResult
		file string
	}{
		{"full", full, "signature.golden.json"},
		{"bare", bare, "signature-bare.golden.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res
			v := map[string]any{"verdict": res.Verdict, "checks": res.Checks, "signer": CertificateOf(res.Signer), "judged_at": res.JudgedAt.UTC().Format(time.RFC3339)}
			if !res.SigningTime.IsZero() {
				v["claimed_signing_time"] = res.SigningTime.UTC().Format(time.RFC3339)
			}
			if !res.Timestamp.IsZero() {
				v["timestamp"] = res.Timestamp.UTC().Format(time.RFC3339)
			}
			if res.TimestampNote != "" {
				v["timestamp_ignored"] = res.TimestampNote
			}
			if len(res.Warnings) > 0 {
				v["warnings"] = res.Warnings
			}
			want := golden.Indented(t, v)
			got := golden.Indented(t, SignatureOf(res))
			if !bytes.Equal(got, want) {
				t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
			}
			golden.Check(t, tc.file, got)
		})
	}
}

func TestImageFormat(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{[]byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}, "jpeg2000"},
		{[]byte{0xFF, 0x4F, 0xFF, 0x51, 0}, "jpeg2000-codestream"},
		{[]byte("\x89PNG\r\n\x1a\n"), "png"},
		{[]byte{0xFF, 0xD8, 0xFF}, "jpeg"},
		{[]byte("GIF89a"), "unknown"},
		{nil, "unknown"},
	} {
		if got := ImageFormat(tc.in); got != tc.want {
			t.Errorf("%x: %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPDFJSON: a PDF verification's JSON is the map and per-signature
// struct the command-line tool built before it had a type (kept here as
// the reference), and the golden file.
func TestPDFJSON(t *testing.T) {
	cert := testCert(t)
	res := &pdfsig.Result{Size: 4096, Revisions: []int64{1000, 4096}, Verdict: trust.NotGenuine,
		Checks: []trust.Check{{Name: trust.CheckName("pdf:later-changes"), Result: trust.Fail, Detail: "page <content> & more replaced"}},
		Signatures: []pdfsig.SignatureResult{
			{Field: "Signature1", Object: 12, SubFilter: "ETSI.CAdES.detached", ByteRange: []int64{0, 100, 200, 800}, Covered: 900, Revision: 1000,
				Signer: cert, Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), JudgedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
				Changes: []pdfsig.Change{{Object: 3, What: "page content", Allowed: false, Revision: 4096}}, Checks: testChecks, Verdict: trust.Genuine},
			{Object: 20, SubFilter: "adbe.pkcs7.detached", JudgedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Verdict: trust.Undecided},
		}}
	type pdfSigJSON struct {
		*pdfsig.SignatureResult
		Signer    *Certificate `json:"signer,omitempty"`
		Name      string       `json:"signer_name,omitempty"`
		Timestamp string       `json:"timestamp,omitempty"`
		JudgedAt  string       `json:"judged_at"`
	}
	sigs := make([]pdfSigJSON, len(res.Signatures))
	for i := range res.Signatures {
		s := &res.Signatures[i]
		j := pdfSigJSON{SignatureResult: s, JudgedAt: s.JudgedAt.UTC().Format(time.RFC3339)}
		if s.Signer != nil {
			c := CertificateOf(s.Signer)
			j.Signer = &c
			j.Name = HolderName(s.Signer)
		}
		if !s.Timestamp.IsZero() {
			j.Timestamp = s.Timestamp.UTC().Format(time.RFC3339)
		}
		sigs[i] = j
	}
	want := golden.Indented(t, map[string]any{"verdict": res.Verdict, "size": res.Size, "revisions": res.Revisions, "signatures": sigs, "checks": res.Checks})
	got := golden.Indented(t, PDFOf(res))
	if !bytes.Equal(got, want) {
		t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
	}
	golden.Check(t, "pdf.golden.json", got)
	if got := golden.Indented(t, PDFOf(&pdfsig.Result{})); !bytes.Contains(got, []byte(`"signatures": []`)) {
		t.Errorf("a PDF without signatures: %s", got)
	}
}

// TestReadersJSON: the reader list is the map the command-line tool built
// before it had a type, and the golden file; no readers is an empty list.
func TestReadersJSON(t *testing.T) {
	list := []Reader{ReaderOf("ACS ACR39U 00 00", true, []byte{0x3B, 0xE0, 0x00, 0xff}), ReaderOf("Sony <RC-S380> & more", false, nil)}
	if got, want := golden.Indented(t, ReaderList(list)), golden.Indented(t, map[string]any{"readers": list}); !bytes.Equal(got, want) {
		t.Fatalf("typed JSON differs from the map form:\n%s\nwant\n%s", got, want)
	}
	golden.Check(t, "readers.golden.json", golden.Indented(t, ReaderList(list)))
	if got := golden.Indented(t, ReaderList(nil)); !bytes.Equal(got, []byte("{\n  \"readers\": []\n}\n")) {
		t.Errorf("no readers: %s", got)
	}
}
