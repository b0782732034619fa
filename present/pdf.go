package present

import (
	"time"

	"github.com/mynakit/mynakit/pdfsig"
	"github.com/mynakit/mynakit/trust"
)

// PDF is a PDF's verification: the file's own checks, its revisions, each
// signature and the verdict over them. The members are in name order.
type PDF struct {
	Checks     []trust.Check  `json:"checks"`
	Revisions  []int64        `json:"revisions"`
	Signatures []PDFSignature `json:"signatures"`
	Size       int64          `json:"size"`
	Verdict    trust.Verdict  `json:"verdict"`
}

// PDFSignature is one signature of a PDF: what pdfsig found, then the
// signer's certificate summary and name (from its holder attributes), a
// trusted timestamp's time and the time the certificate was judged at, in
// UTC RFC 3339.
type PDFSignature struct {
	*pdfsig.SignatureResult
	Signer    *Certificate `json:"signer,omitempty"`
	Name      string       `json:"signer_name,omitempty"`
	Timestamp string       `json:"timestamp,omitempty"`
	JudgedAt  string       `json:"judged_at"`
}

// PDFOf is the JSON form of res.
func PDFOf(res *pdfsig.Result) PDF {
	out := PDF{Checks: res.Checks, Revisions: res.Revisions, Signatures: make([]PDFSignature, len(res.Signatures)), Size: res.Size, Verdict: res.Verdict}
	for i := range res.Signatures {
		s := &res.Signatures[i]
		j := PDFSignature{SignatureResult: s, JudgedAt: s.JudgedAt.UTC().Format(time.RFC3339)}
		if s.Signer != nil {
			c := CertificateOf(s.Signer)
			j.Signer = &c
			j.Name = HolderName(s.Signer)
		}
		if !s.Timestamp.IsZero() {
			j.Timestamp = s.Timestamp.UTC().Format(time.RFC3339)
		}
		out.Signatures[i] = j
	}
	return out
}
