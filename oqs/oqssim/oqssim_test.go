package oqssim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/oqs"
)

func TestScenarioValuesKeepTheirText(t *testing.T) {
	s, err := ParseScenarios([]byte(`
scenarios:
  - name: y
    match: {insurer: 138016, number: 7, branch: 00, birth: 19530615}
    validity: 1
    results:
      - InsuredBranchNumber: 00
        InsuredPartialContributionRatio: 020
        InsurerNumber: 138016
        Future: ~
`))
	if err != nil {
		t.Fatal(err)
	}
	sc := s.List[0]
	if sc.Match.Branch != "00" || sc.Validity != "1" {
		t.Errorf("key %+v", sc.Match)
	}
	r := sc.Results[0]
	for name, want := range map[string]string{"InsuredBranchNumber": "00", "InsuredPartialContributionRatio": "020", "Future": ""} {
		if c, ok := r.Child(name); !ok || c.Text != want {
			t.Errorf("%s = %+v", name, c)
		}
	}
	if s.Lookup(Key{Insurer: "  138016", Number: "7", Branch: "00", Birth: "1953-06-15"}) == nil {
		t.Error("padded insurer number did not match")
	}
}

func TestScenariosInJSON(t *testing.T) {
	s, err := ParseScenarios([]byte(`{"scenarios": [{"name": "j", "match": {"insurer": "06130028", "number": "1", "birth": "19800101"},
		"validity": "1", "results": [{"Name": "\u6a21\u64ec", "SpecificDiseasesCertificateList": [{"SpecificDiseasesDiseaseCategory": "1"}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := s.List[0].Results[0]
	if c, _ := r.Child("Name"); c.Text != "模擬" {
		t.Errorf("name %q", c.Text)
	}
	l, ok := r.Child("SpecificDiseasesCertificateList")
	if !ok || len(l.Children) != 1 || l.Children[0].Name != "SpecificDiseasesCertificateInfo" {
		t.Errorf("list %+v", l)
	}
}

func TestScenarioErrors(t *testing.T) {
	for _, bad := range []string{
		"scenarios: [{match: {}}]",
		"scenarios: [{name: a}, {name: a}]",
		"scenarios: [{name: a, results: [[1]]}]",
		"scenarios: [{name: a, results: [{Unknown: [1]}]}]",
		"scenarios: : :",
	} {
		if _, err := ParseScenarios([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	s, _ := LoadScenarios("")
	if _, err := s.Find("nope"); !errors.Is(err, ErrNoScenario) {
		t.Error(err)
	}
}

// TestDefaultScenariosCoverEveryKind keeps the built-in file honest.
func TestDefaultScenariosCoverEveryKind(t *testing.T) {
	s, err := LoadScenarios("")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, sc := range s.List {
		kinds[sc.Kind] = true
	}
	for _, k := range []string{"valid", "invalid", "invalid-newer", "not-found", "multiple", "late-elderly", "elderly-70-74", "limit-certificate", "specific-disease", "medical-assistance"} {
		if !kinds[k] {
			t.Errorf("no %s scenario", k)
		}
	}
}

func newTerminal(t *testing.T, f Faults, enc oqs.Encoding) (*Terminal, string) {
	t.Helper()
	root := t.TempDir()
	term, err := New(Config{Root: root, Poll: 5 * time.Millisecond, Faults: f, Encoding: enc, EncodingSet: true, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return term, root
}

func TestFaceFileShapeAndRegistration(t *testing.T) {
	term, root := newTerminal(t, Faults{}, oqs.ShiftJIS)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go term.Run(ctx)
	// Register a 照会番号, as a clinic does through OQSsiimm01req_.
	doc, err := oqs.NewRegistrationRequest(DefaultMIC, "R1", oqs.Registration{ReferenceNumber: "P-0001", InsurerNumber: "39130017", InsuredIdentificationNumber: "12345678"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := doc.Encode(oqs.ShiftJIS)
	os.WriteFile(filepath.Join(root, "req", "OQSsiimm01req_202503010001.xml"), b, 0o644)
	resPath := filepath.Join(root, "res", "OQSsiimm01res_202503010001.xml")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(resPath); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no registration result")
		}
		time.Sleep(5 * time.Millisecond)
	}
	rb, _ := os.ReadFile(resPath)
	rr, err := oqs.ParseRegistrationResult(rb)
	if err != nil || rr.Body.ProcessingResultStatus != "1" || rr.Body.Info == nil || rr.Body.Info.ReferenceNumber != "P-0001" || rr.Header.ArbitraryFileIdentifier != "R1" {
		t.Fatalf("registration result %+v %v", rr, err)
	}
	path, err := term.EmitFace(ctx, "kouki")
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	fn, err := oqs.ParseFaceName(name, time.Local)
	if err != nil || fn.MedicalInstitutionCode != DefaultMIC || len(name) != len("OQSsiquc01res_face_")+30+1+14+4 {
		t.Fatalf("face name %s: %v", name, err)
	}
	fb, _ := os.ReadFile(path)
	r, err := oqs.ParseConfirmResult(fb)
	if err != nil {
		t.Fatal(err)
	}
	q := r.Qualifications()[0]
	if r.Source.Encoding != oqs.ShiftJIS || r.Header.CharacterCodeIdentifier != "1" || r.Header.ReferenceClassification != "1" || len(r.Header.ArbitraryFileIdentifier) != 16 {
		t.Errorf("header %+v", r.Header)
	}
	if q.ReferenceNumber != "P-0001" || q.InsurerNumber != "39130017" || q.PharmacistsInfoConsFlg != "1" || len(q.PharmacistsInfoAvailableTime) != 14 {
		t.Errorf("result %+v", q)
	}
	if r.Body.SearchInfo != nil {
		t.Error("face results carry no search info")
	}
}

func TestUnknownAndMalformedRequestsGetErrors(t *testing.T) {
	term, root := newTerminal(t, Faults{}, oqs.UTF8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go term.Run(ctx)
	os.WriteFile(filepath.Join(root, "req", "OQSmuquc01req_202503010001.xml"), []byte(`<XmlMsg><MessageHeader><MedicalInstitutionCode>1312345678</MedicalInstitutionCode><ArbitraryFileIdentifier>X</ArbitraryFileIdentifier></MessageHeader></XmlMsg>`), 0o644)
	os.WriteFile(filepath.Join(root, "req", "OQSsiquc01req_202503010002.xml"), []byte(`<XmlMsg><MessageHeader><ArbitraryFileIdentifier>Y</ArbitraryFileIdentifier>`), 0o644)
	for _, n := range []string{"OQSmuquc01res_202503010001.xml", "OQSsiquc01res_202503010002.xml"} {
		p := filepath.Join(root, "res", n)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := os.Stat(p); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no answer %s", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		b, _ := os.ReadFile(p)
		r, err := oqs.ParseConfirmResult(b)
		if err != nil || r.Header.SegmentOfResult != "9" || !strings.HasPrefix(r.Header.ErrorCode, "E-SIM-") || r.Header.ArbitraryFileIdentifier == "" {
			t.Errorf("%s: %+v %v", n, r, err)
		}
		if in := oqs.Interpret(r); in.Outcome != oqs.OutcomeError {
			t.Errorf("%s: %s", n, in.Outcome)
		}
	}
	if h := term.Handled(); len(h) != 2 {
		t.Errorf("handled %v", h)
	}
}

func FuzzParseScenarios(f *testing.F) {
	f.Add(DefaultScenariosYAML())
	f.Add([]byte(`{"scenarios": [{"name": "j", "results": [{"Name": "x"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseScenarios(b)
		if err != nil {
			return
		}
		term := &Terminal{cfg: Config{Scenarios: s, Encoding: oqs.UTF8}}
		for i := range s.List {
			doc := oqs.Group("XmlMsg", term.header(&s.List[i], time.Now(), "20250301", "1312345678", "F", "2"), term.body(&s.List[i], time.Now(), nil, "1", nil))
			_, _ = oqs.EncodeDocument(doc, oqs.UTF8)
		}
	})
}

func TestHTTPTrigger(t *testing.T) {
	term, root := newTerminal(t, Faults{}, oqs.UTF8)
	srv := httptest.NewServer(term.Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/face?scenario=elderly", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ File string }
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || filepath.Dir(out.File) != filepath.Join(root, "face") {
		t.Fatalf("%d %+v", resp.StatusCode, out)
	}
	b, _ := os.ReadFile(out.File)
	if r, err := oqs.ParseConfirmResult(b); err != nil || r.Qualifications()[0].Name != "古希　健" {
		t.Errorf("%v", err)
	}
	resp, err = http.Post(srv.URL+"/face?scenario=nobody", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown scenario: %d", resp.StatusCode)
	}
}
