package oqs

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteSeeds regenerates the fuzz seed corpus in testdata/fuzz when
// MYNAKIT_WRITE_TESTDATA=1.
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("MYNAKIT_WRITE_TESTDATA") == "" {
		t.Skip("set MYNAKIT_WRITE_TESTDATA=1 to regenerate the seed corpus")
	}
	write := func(target, file string, args ...any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s := "go test fuzz v1\n"
		for _, a := range args {
			switch v := a.(type) {
			case []byte:
				s += "[]byte(" + strconv.Quote(string(v)) + ")\n"
			case string:
				s += "string(" + strconv.Quote(v) + ")\n"
			}
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	face := readTestdata(t, "face-out-of-order.xml")
	write("FuzzParseConfirmResult", "face-utf8", face)
	write("FuzzParseConfirmResult", "face-sjis", toSJIS(t, face))
	write("FuzzParseConfirmResult", "flat-diseases", readTestdata(t, "result-flat-diseases.xml"))
	write("FuzzParseConfirmResult", "doctype", []byte(`<?xml version="1.0"?><!DOCTYPE XmlMsg [<!ENTITY e SYSTEM "file:///etc/passwd">]><XmlMsg>&e;</XmlMsg>`))
	doc, _ := NewConfirmRequest(testMIC, "F1", testReq, faceNow)
	sj, _ := doc.Encode(ShiftJIS)
	write("FuzzParseConfirmRequest", "request-sjis", sj)
	write("FuzzParseFile", "face", "OQSsiquc01res_face_1398765432abcdef0123456789abcd_20250301101502.xml", face)
	write("FuzzParseFile", "request", "OQSsiquc01req_202503010001.xml", sj)
}
