package oqs

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mynakit/mynakit/internal/golden"
)

func faceResult(t *testing.T) FaceResult {
	t.Helper()
	raw := readTestdata(t, "face-out-of-order.xml")
	msg, err := ParseConfirmResult(raw)
	if err != nil {
		t.Fatal(err)
	}
	return FaceResult{Name: "OQSsiquc01res_face_<x>&_20250301101502.xml", Path: "/share/face/a.xml",
		Time: time.Date(2025, 3, 1, 10, 15, 2, 0, time.FixedZone("JST", 9*3600)), Raw: raw, SHA256: "abc",
		Message: msg, CopyPath: "/copy/a.xml", Note: "read from trash"}
}

// oldFaceLine is how the command-line tool built a watch line before
// FaceReport: kept as the reference the type must match byte for byte.
func oldFaceLine(t *testing.T, f FaceResult, card CardFacts) []byte {
	type faceJSON struct {
		File          string         `json:"file"`
		Path          string         `json:"path"`
		Time          string         `json:"time,omitempty"`
		SHA256        string         `json:"sha256,omitempty"`
		Copy          string         `json:"copy,omitempty"`
		Note          string         `json:"note,omitempty"`
		Error         string         `json:"error,omitempty"`
		Eligibility   *Eligibility   `json:"eligibility,omitempty"`
		Disagreements []Disagreement `json:"disagreements,omitempty"`
	}
	out := faceJSON{File: f.Name, Path: f.Path, SHA256: f.SHA256, Copy: f.CopyPath, Note: f.Note}
	if !f.Time.IsZero() {
		out.Time = f.Time.Format(time.RFC3339)
	}
	if f.Err != nil {
		out.Error = f.Err.Error()
	} else {
		e := f.Eligibility()
		out.Eligibility = &e
		if card.Name != "" || card.BirthDate != "" {
			out.Disagreements = Match(card, f)
			if out.Disagreements == nil {
				out.Disagreements = []Disagreement{}
			}
		}
	}
	return golden.Line(t, out)
}

// TestFaceReportJSON: a face report's line equals the line the
// command-line tool built by hand, with and without a card, agreeing and
// not, and for an unreadable file; the golden files hold the bytes.
func TestFaceReportJSON(t *testing.T) {
	good := faceResult(t)
	bad := FaceResult{Name: "OQSsiquc01res_face_x_20250301101502.xml", Path: "/share/face/x.xml", Err: errors.New("truncated <XML> & more")}
	for _, tc := range []struct {
		name string
		f    FaceResult
		card CardFacts
		file string
	}{
		{"no card", good, CardFacts{}, "face-report.golden.jsonl"},
		{"another card", good, CardFacts{Name: "別人　太郎", BirthDate: "1999-01-01"}, "face-report-mismatch.golden.jsonl"},
		{"kana only", good, CardFacts{Kana: "ベツジン"}, "face-report-kana-only.golden.jsonl"},
		{"unreadable", bad, CardFacts{Name: "別人　太郎"}, "face-report-unreadable.golden.jsonl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card := tc.card
			got := golden.Line(t, NewFaceReport(tc.f, &card))
			if want := oldFaceLine(t, tc.f, tc.card); !bytes.Equal(got, want) {
				t.Fatalf("FaceReport differs from the hand-built line:\n%s\nwant\n%s", got, want)
			}
			golden.Check(t, tc.file, got)
		})
	}
	if len(NewFaceReport(good, &CardFacts{Name: "別人　太郎"}).Disagreements()) == 0 {
		t.Error("another holder's card agrees with the result")
	}
}

// TestEligibilityJSON: the eligibility of a confirmation result, as the
// command-line tool prints it, is the golden file byte for byte.
func TestEligibilityJSON(t *testing.T) {
	msg, err := ParseConfirmResult(readTestdata(t, "result-flat-diseases.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Summarize(msg, KindConfirmResult)); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "eligibility.golden.json", b.Bytes())
}

// TestConfirmReportJSON: a confirmation's JSON, answered and pending, is
// the golden file byte for byte.
func TestConfirmReportJSON(t *testing.T) {
	msg, err := ParseConfirmResult(readTestdata(t, "result-flat-diseases.xml"))
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{Job: Job{ID: "20250301-0001"}, Resumed: true, Path: "/share/res/a.xml", Message: msg}
	indent := func(v any) []byte {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	golden.Check(t, "confirm-report.golden.json", indent(res.Report()))
	te := &TimeoutError{Job: Job{ID: "20250301-0002"}, Waited: 90 * time.Second}
	golden.Check(t, "confirm-pending.golden.json", indent(PendingReport(te.Job, te)))
}

// TestFaceReportCounterJSON: the counter page's form equals what the
// bridge built by hand before FaceReport (kept here as the reference), as
// json.Marshal writes it (HTML escaped), with and without a card and for
// an unreadable file.
func TestFaceReportCounterJSON(t *testing.T) {
	type matchJSON struct {
		Card          CardFacts      `json:"card"`
		Agrees        bool           `json:"agrees"`
		Disagreements []Disagreement `json:"disagreements"`
	}
	type faceJSON struct {
		File        string       `json:"file"`
		Time        string       `json:"time,omitempty"`
		SHA256      string       `json:"sha256"`
		Error       string       `json:"error,omitempty"`
		Eligibility *Eligibility `json:"eligibility,omitempty"`
		Match       *matchJSON   `json:"match,omitempty"`
	}
	render := func(f FaceResult, card *CardFacts) []byte {
		out := faceJSON{File: filepath.Base(f.Name), SHA256: f.SHA256}
		if !f.Time.IsZero() {
			out.Time = f.Time.Format(time.RFC3339)
		}
		if f.Err != nil {
			out.Error = f.Err.Error()
		} else {
			e := f.Eligibility()
			out.Eligibility = &e
			if card != nil {
				d := Match(*card, f)
				if d == nil {
					d = []Disagreement{}
				}
				out.Match = &matchJSON{Card: *card, Agrees: len(d) == 0, Disagreements: d}
			}
		}
		b, _ := json.Marshal(out)
		return b
	}
	good := faceResult(t)
	good.Name = "/share/face/" + good.Name
	bad := FaceResult{Name: "/share/face/x.xml", Err: errors.New("truncated <XML> & more")}
	other := &CardFacts{Name: "別人　太郎", BirthDate: "1999-01-01"}
	for _, tc := range []struct {
		name string
		f    FaceResult
		card *CardFacts
		file string
	}{
		{"no card", good, nil, "face-counter.golden.json"},
		{"another card", good, other, "face-counter-mismatch.golden.json"},
		{"unreadable", bad, other, "face-counter-unreadable.golden.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(FaceReport{Result: tc.f, Card: tc.card, Counter: true})
			if err != nil {
				t.Fatal(err)
			}
			if want := render(tc.f, tc.card); !bytes.Equal(got, want) {
				t.Fatalf("counter form differs from the bridge's:\n%s\nwant\n%s", got, want)
			}
			golden.Check(t, tc.file, append(got, '\n'))
		})
	}
}

// TestRequestSummaryJSON: `oqs show --json` of a request is RequestSummary,
// fixed by a golden file, for a request as this package writes it and read
// back (Shift_JIS, an insurer number padded with spaces as sent).
func TestRequestSummaryJSON(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 30, 0, 0, time.FixedZone("JST", 9*3600))
	req, err := NewConfirmRequest("1312345678", "OQSsiquc01req_202612070001", Request{InsurerNumber: "138024", InsuredCardSymbol: "ﾐﾎﾝ", InsuredIdentificationNumber: "17", InsuredBranchNumber: "00", Birthdate: "19491107", LimitConsent: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := req.Encode(ShiftJIS)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseConfirmRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "request-summary.golden.json", golden.Indented(t, SummarizeRequest(back)))
}
