package oqs

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func toSJIS(t testing.TB, b []byte) []byte {
	t.Helper()
	b = bytes.Replace(b, []byte(`encoding="UTF-8"`), []byte(`encoding="Shift_JIS"`), 1)
	b = bytes.Replace(b, []byte("<CharacterCodeIdentifier>0<"), []byte("<CharacterCodeIdentifier>1<"), 1)
	out, err := japanese.ShiftJIS.NewEncoder().Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseFaceOutOfOrderBothEncodings(t *testing.T) {
	utf := readTestdata(t, "face-out-of-order.xml")
	for _, tc := range []struct {
		name string
		b    []byte
		enc  Encoding
	}{{"utf-8", utf, UTF8}, {"shift_jis", toSJIS(t, utf), ShiftJIS}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseConfirmResult(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if r.Source.Encoding != tc.enc || len(r.Source.Warnings) != 0 {
				t.Errorf("source %+v", r.Source)
			}
			if r.Header.MedicalInstitutionCode != "1398765432" || r.Header.ReferenceClassification != "1" || r.Header.ProcessExecutionTime != "20250301101500" {
				t.Errorf("header %+v", r.Header)
			}
			qs := r.Qualifications()
			if len(qs) != 1 {
				t.Fatalf("%d qualifications", len(qs))
			}
			q := qs[0]
			if q.Name != "見本　みどり" || q.NameKana != "ｻﾝﾌﾟﾙ ﾐﾄﾞﾘ" || q.InsurerNumber != "  138024" || q.InsuredBranchNumber != "00" || q.InsuredPartialContributionRatio != "020" {
				t.Errorf("qualification %+v", q)
			}
			if q.ElderlyRecipientCertificateInfo == nil || q.ElderlyRecipientCertificateInfo.ElderlyRecipientContributionRatio != "020" {
				t.Errorf("elderly %+v", q.ElderlyRecipientCertificateInfo)
			}
			ds := q.SpecificDiseasesCertificateList.Certificates
			if len(ds) != 2 || ds[0].SpecificDiseasesSelfPay != "20000" || ds[1].SpecificDiseasesValidStartDate != "20240101" {
				t.Errorf("diseases %+v", ds)
			}
			if len(q.Extra) != 1 || q.Extra[0].Name != "FutureElement" || q.Extra[0].Text != "kept" {
				t.Errorf("unknown element not kept: %+v", q.Extra)
			}
			if in := Interpret(r); !in.Success() {
				t.Errorf("interpretation %+v", in)
			}
			e := Summarize(r, KindFaceResult)
			s := e.Qualifications[0]
			if s.InsurerNumber != "138024" || s.BirthDate != "1949-11-07" || s.ContributionRatio.Label != "2割" || s.ReferenceNumber != "K-0042" {
				t.Errorf("summary %+v", s)
			}
			if s.SpecificDiseases[0].Category.Japanese != "人工透析を必要とする慢性腎不全" {
				t.Errorf("two-digit disease category not labelled: %+v", s.SpecificDiseases[0].Category)
			}
			if s.PrescriptionIssue == nil || s.PrescriptionIssue.Value != "1" {
				t.Errorf("body-level PrescriptionIssueSelect lost: %+v", s.PrescriptionIssue)
			}
			if len(s.Consents) != 1 || s.Consents[0].Item != "pharmacists_info" || s.Consents[0].AvailableUntil != "2025-03-02T10:15:00" {
				t.Errorf("consents %+v", s.Consents)
			}
			if len(s.UnknownElements) != 1 {
				t.Errorf("unknown elements %v", s.UnknownElements)
			}
		})
	}
}

func TestParseFlatSpecificDiseasesList(t *testing.T) {
	r, err := ParseConfirmResult(readTestdata(t, "result-flat-diseases.xml"))
	if err != nil {
		t.Fatal(err)
	}
	q := r.Qualifications()[0]
	ds := q.SpecificDiseasesCertificateList.Certificates
	if len(ds) != 2 || ds[0].SpecificDiseasesDiseaseCategory != "1" || ds[0].SpecificDiseasesSelfPay != "10000" || ds[1].SpecificDiseasesDiseaseCategory != "3" {
		t.Errorf("flat nesting: %+v", ds)
	}
	if q.PrescriptionIssueSelect != "2" {
		t.Errorf("PrescriptionIssueSelect inside the result: %q", q.PrescriptionIssueSelect)
	}
}

func TestEncodingCrossCheck(t *testing.T) {
	utf := readTestdata(t, "face-out-of-order.xml")
	// Shift_JIS bytes declared UTF-8 but identified as Shift_JIS: read as Shift_JIS, warned.
	sj := toSJIS(t, utf)
	lying := bytes.Replace(sj, []byte(`encoding="Shift_JIS"`), []byte(`encoding="UTF-8"`), 1)
	r, err := ParseConfirmResult(lying)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source.Encoding != ShiftJIS || len(r.Source.Warnings) != 1 || r.Qualifications()[0].Name != "見本　みどり" {
		t.Errorf("declared UTF-8, identified Shift_JIS: %+v %q", r.Source, r.Qualifications()[0].Name)
	}
	// UTF-8 bytes rightly declared, identifier says Shift_JIS: the declaration wins, warned.
	wrongID := bytes.Replace(utf, []byte("<CharacterCodeIdentifier>0<"), []byte("<CharacterCodeIdentifier>1<"), 1)
	r, err = ParseConfirmResult(wrongID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source.Encoding != UTF8 || len(r.Source.Warnings) != 1 {
		t.Errorf("identifier disagrees: %+v", r.Source)
	}
	// No declaration, no identifier, Shift_JIS bytes: read as Shift_JIS.
	bare := bytes.Replace(sj, []byte(`<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>`), nil, 1)
	bare = bytes.Replace(bare, []byte("<CharacterCodeIdentifier>1</CharacterCodeIdentifier>"), nil, 1)
	r, err = ParseConfirmResult(bare)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source.Encoding != ShiftJIS || r.Qualifications()[0].Name != "見本　みどり" {
		t.Errorf("undeclared Shift_JIS: %+v", r.Source)
	}
	// Declared Shift_JIS, identified Shift_JIS, but UTF-8 bytes: refused.
	bad := bytes.Replace(wrongID, []byte(`encoding="UTF-8"`), []byte(`encoding="Shift_JIS"`), 1)
	if _, err := ParseConfirmResult(bad); !errors.Is(err, ErrEncodingMismatch) {
		t.Errorf("UTF-8 bytes declared and identified Shift_JIS: %v", err)
	}
	if _, err := ParseConfirmResult([]byte(`<?xml version="1.0" encoding="EUC-JP"?><XmlMsg/>`)); !errors.Is(err, ErrUnsupportedEncoding) {
		t.Errorf("EUC-JP: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	good := string(readTestdata(t, "result-flat-diseases.xml"))
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"doctype", strings.Replace(good, "<XmlMsg>", `<!DOCTYPE XmlMsg [<!ENTITY x "y">]><XmlMsg>`, 1), ErrDTD},
		{"external entity", strings.Replace(good, "<XmlMsg>", `<!DOCTYPE XmlMsg SYSTEM "file:///etc/passwd"><XmlMsg>`, 1), ErrDTD},
		{"entity reference", strings.Replace(good, "見本　一", "&xxe;", 1), ErrMalformed},
		{"truncated", good[:len(good)/2], ErrMalformed},
		{"wrong root", strings.ReplaceAll(good, "XmlMsg", "Other"), ErrMalformed},
		{"two roots", good + "<XmlMsg/>", ErrMalformed},
		{"no header", "<XmlMsg><MessageBody/></XmlMsg>", ErrMalformed},
		{"processing instruction", strings.Replace(good, "<XmlMsg>", `<?php x?><XmlMsg>`, 1), ErrMalformed},
		{"too deep", "<XmlMsg>" + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + "</XmlMsg>", ErrMalformed},
		{"oversize", "<XmlMsg>" + strings.Repeat(" ", DefaultMaxFileSize) + "</XmlMsg>", ErrTooLarge},
		{"utf-16", "\xff\xfe<\x00", ErrUnsupportedEncoding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfirmResult([]byte(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := ParseFile("OQSzzzz01res_1.xml", []byte(good)); !errors.Is(err, ErrUnknownPrefix) {
		t.Errorf("unknown prefix: %v", err)
	}
	if _, err := ReadFile("testdata/no-such-prefix.xml"); !errors.Is(err, ErrUnknownPrefix) {
		t.Errorf("ReadFile unknown prefix: %v", err)
	}
}

func TestRequestEncoding(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 30, 0, 0, time.Local)
	doc, err := NewConfirmRequest("1398765432", "F1", Request{InsurerNumber: "138024", InsuredCardSymbol: "ﾐﾎﾝ", InsuredIdentificationNumber: "17",
		InsuredBranchNumber: "00", Birthdate: "1949-11-07", LimitConsent: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := doc.Encode(ShiftJIS)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>`)) {
		t.Errorf("declaration: %q", b[:60])
	}
	if !bytes.Contains(b, []byte("<InsurerNumber>  138024</InsurerNumber>")) || !bytes.Contains(b, []byte("<QualificationConfirmationDate>20250301<")) {
		t.Errorf("padding or date:\n%s", b)
	}
	if bytes.Contains(b, []byte("&#")) {
		t.Error("character reference written")
	}
	back, err := ParseConfirmRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Source.Encoding != ShiftJIS || back.Body.SearchInfo.InsuredCardSymbol != "ﾐﾎﾝ" || back.Body.SearchInfo.Birthdate != "19491107" ||
		back.Body.SearchInfo.LimitApplicationCertificateRelatedConsFlg != "1" {
		t.Errorf("round trip %+v", back.Body.SearchInfo)
	}
	// A character Shift_JIS lacks is refused, naming the element.
	doc.Body.SearchInfo.InsuredCardSymbol = "𠮷"
	_, err = doc.Encode(ShiftJIS)
	var ue *UnencodableError
	if !errors.As(err, &ue) || ue.Element != "InsuredCardSymbol" || ue.Rune != '𠮷' {
		t.Errorf("unencodable: %v", err)
	}
	if _, err := doc.Encode(UTF8); err != nil {
		t.Errorf("UTF-8 holds it: %v", err)
	}
	for _, bad := range []Request{
		{InsurerNumber: "12345", InsuredIdentificationNumber: "1", Birthdate: "19800101"},
		{InsurerNumber: "123456", Birthdate: "19800101"},
		{InsurerNumber: "123456", InsuredIdentificationNumber: "1", Birthdate: "19801301"},
		{InsurerNumber: "123456", InsuredIdentificationNumber: "1", Birthdate: "19800101", InsuredBranchNumber: "1"},
	} {
		if _, err := NewConfirmRequest("1398765432", "F", bad, now); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestInsurerPadding(t *testing.T) {
	if PadInsurer("138024") != "  138024" || PadInsurer("06139990") != "06139990" || PadInsurer(" 138024 ") != "  138024" {
		t.Error("PadInsurer")
	}
	if TrimInsurer("  138024") != "138024" || TrimInsurer("\u3000138024") != "138024" {
		t.Error("TrimInsurer")
	}
}

func TestInterpret(t *testing.T) {
	q := []Qualification{{Name: "a"}}
	two := []Qualification{{Name: "a"}, {Name: "b"}}
	for _, tc := range []struct {
		seg, code, status, validity string
		results                     []Qualification
		want                        Outcome
	}{
		{"1", "", "1", "1", q, OutcomeValid},
		{"1", "", "1", "1", nil, OutcomeError},
		{"1", "", "1", "1", two, OutcomeError},
		{"1", "", "1", "2", q, OutcomeInvalid},
		{"1", "", "1", "3", q, OutcomeInvalidNewer},
		{"1", "", "1", "4", nil, OutcomeNotFound},
		{"1", "", "1", "5", two, OutcomeMultiple},
		{"1", "", "1", "6", q, OutcomeValidUnregistered},
		{"1", "", "2", "", nil, OutcomeError},
		{"9", "E1", "", "", nil, OutcomeError},
		{"3", "", "1", "1", q, OutcomeError},
		{"2", "", "", "", nil, OutcomeProcessing},
		{"1", "E1", "1", "1", q, OutcomeError},
		{"", "", "1", "1", q, OutcomeError},
	} {
		r := &ConfirmResult{Header: ResultHeader{SegmentOfResult: tc.seg, ErrorCode: tc.code},
			Body: ResultBody{ProcessingResultStatus: tc.status, QualificationValidity: tc.validity, ResultList: ResultList{Results: tc.results}}}
		in := Interpret(r)
		if in.Outcome != tc.want {
			t.Errorf("%+v: %s (%v)", tc, in.Outcome, in.Reasons)
		}
		if (tc.want == OutcomeValid) != (len(in.Reasons) == 0) {
			t.Errorf("%+v: reasons %v", tc, in.Reasons)
		}
	}
	r := &ConfirmResult{Header: ResultHeader{SegmentOfResult: "1"}, Body: ResultBody{ProcessingResultStatus: "1", QualificationValidity: "1",
		ProcessingResultCode: "W123", ProcessingResultMessage: "有効期限が近づいています", ResultList: ResultList{Results: q}}}
	if in := Interpret(r); !in.Success() || in.Notice != "W123 有効期限が近づいています" {
		t.Errorf("付帯情報 on success: %+v", in)
	}
}

func TestCodeTablesCarryEvidence(t *testing.T) {
	for _, s := range CodeSets() {
		if !strings.HasPrefix(s.Evidence, "[") || len(s.Codes) == 0 {
			t.Errorf("%s %s: evidence %q", s.ID, s.Element, s.Evidence)
		}
	}
	if c, ok := LookupCode("LimitApplicationCertificateClassificationFlag", "B05"); !ok || c.Japanese != "低所得Ⅱ" {
		t.Errorf("B05: %+v", c)
	}
	if c, ok := LookupCode("QualificationValidity", "7"); ok || c.English != "unknown" {
		t.Errorf("unknown code: %+v", c)
	}
	if c, _ := LookupCode("Sex2", "2"); c.English != "female" {
		t.Errorf("alias: %+v", c)
	}
}

func TestNames(t *testing.T) {
	if n, _ := ResultName("OQSsiquc01req_202503010001.xml"); n != "OQSsiquc01res_202503010001.xml" {
		t.Error(n)
	}
	if n, _ := ResultName("OQSmuquc02req_x.xml"); n != "OQSmuquc02res_x.xml" {
		t.Error(n)
	}
	if _, err := ResultName("OQSsiquc01res_1.xml"); err == nil {
		t.Error("a result name has no result name")
	}
	fn, err := ParseFaceName("OQSsiquc01res_face_1398765432abcdef0123456789abcd_20250301101502.xml", time.UTC)
	if err != nil || fn.MedicalInstitutionCode != "1398765432" || !fn.Time.Equal(time.Date(2025, 3, 1, 10, 15, 2, 0, time.UTC)) {
		t.Errorf("%+v %v", fn, err)
	}
	for _, n := range []string{"OQSsiquc01res_face_x_2025030110150.xml", "OQSsiquc01res_face_x_20251301101502.xml", "face.xml"} {
		if _, err := ParseFaceName(n, time.UTC); err == nil {
			t.Errorf("%s accepted", n)
		}
	}
}
