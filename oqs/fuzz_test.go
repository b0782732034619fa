package oqs

import (
	"testing"
	"time"
)

// Seeds live in testdata/fuzz; these add the fixtures.

func FuzzParseConfirmResult(f *testing.F) {
	f.Add(readTestdata(f, "face-out-of-order.xml"))
	f.Add(readTestdata(f, "result-flat-diseases.xml"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseConfirmResult(b)
		if err != nil {
			return
		}
		// Whatever parses can be judged and summarized.
		in := Interpret(r)
		e := Summarize(r, KindConfirmResult)
		if in.Success() != e.Success || (in.Success() && len(e.Qualifications) != 1) {
			t.Fatalf("interpretation %+v, summary %+v", in, e)
		}
		_ = Match(CardFacts{Name: "見本", BirthDate: "2000-01-01"}, FaceResult{Message: r})
	})
}

func FuzzParseConfirmRequest(f *testing.F) {
	doc, err := NewConfirmRequest(testMIC, "F1", testReq, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		f.Fatal(err)
	}
	for _, enc := range []Encoding{ShiftJIS, UTF8} {
		b, err := doc.Encode(enc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseConfirmRequest(b)
		if err != nil {
			return
		}
		// A parsed request written back in UTF-8 parses to the same search info.
		out, err := r.Encode(UTF8)
		if err != nil {
			return // e.g. control characters XML cannot carry
		}
		back, err := ParseConfirmRequest(out)
		if err != nil {
			t.Fatalf("re-encoded request does not parse: %v\n%s", err, out)
		}
		a, c := r.Body.SearchInfo, back.Body.SearchInfo
		if a.InsurerNumber != c.InsurerNumber || a.InsuredIdentificationNumber != c.InsuredIdentificationNumber || a.Birthdate != c.Birthdate {
			t.Fatalf("round trip changed %+v into %+v", a, c)
		}
	})
}

func FuzzParseFile(f *testing.F) {
	f.Add("OQSsiimm01res_202503010001.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?><XmlMsg><MessageHeader><SegmentOfResult>1</SegmentOfResult></MessageHeader><MessageBody><ReferenceNumberRegistrationInfo><ReferenceNumber>1</ReferenceNumber></ReferenceNumberRegistrationInfo><ProcessingResultStatus>1</ProcessingResultStatus></MessageBody></XmlMsg>`))
	f.Add("OQSsiquc01res_face_1398765432_20250301101500.xml", readTestdata(f, "face-out-of-order.xml"))
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		_, _ = ParseFaceName(name, time.UTC)
		file, err := ParseFile(name, b)
		if err != nil {
			return
		}
		if k, _ := KindOf(name); k != file.Kind {
			t.Fatalf("kind %v for %q", file.Kind, name)
		}
	})
}
