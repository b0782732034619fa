package bridge_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/pdfsig"
	"github.com/mynakit/mynakit/trust"
)

// A PDF sent as application/pdf comes back signed in place (PAdES, an
// incremental update): the original bytes are its prefix and the verifier
// finds the signature genuine under the test anchors. The consent page
// showed its name, pages and SHA-256 first.
func TestSignPDFReturnsTheSignedPDF(t *testing.T) {
	e := start(t)
	tok := e.pair(appOrigin)
	pdf, err := os.ReadFile("../pdfsig/testdata/classic.pdf")
	if err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/v1/readers/sim/sign", pdf, app(tok, "Content-Type", "application/pdf", "X-Document-Name", "classic.pdf"))
	id := decodeJSON(t, r.body)["id"].(string)
	if page := e.consentPage(id); !strings.Contains(page, "classic.pdf") || !strings.Contains(page, "PDF 2 ページ pages") {
		t.Fatalf("consent page:\n%s", page)
	}
	e.answer(id, url.Values{"password": {simtest.SignPassword}})
	e.op(id, app(tok), finished)
	res := e.do("GET", "/v1/operations/"+id+"/result", nil, app(tok))
	var out struct {
		Algorithm string
		PDF, CMS  []byte
	}
	if err := json.Unmarshal(res.body, &out); err != nil || res.status != 200 || len(out.PDF) == 0 || len(out.CMS) != 0 {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if !bytes.HasPrefix(out.PDF, pdf) || !strings.Contains(out.Algorithm, "PAdES") {
		t.Fatalf("not an incremental update of the sent PDF (%s)", out.Algorithm)
	}
	v, err := pdfsig.Verify(out.PDF, pdfsig.VerifyOptions{Store: simtest.Store(t)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Verdict != trust.Genuine {
		t.Fatalf("verdict %s: %+v", v.Verdict, v)
	}
}
