package oqs

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"time"
)

// FaceReport is one face-folder result as mynakit reports it: the file,
// where it was read and kept, its eligibility, and — when the card read at
// the counter is given — every way the result disagrees with that card.
// Its JSON form (MarshalJSON) is the one line per result that README.md
// documents under "Face watcher"; with Counter set, the form a counter
// page is sent.
type FaceReport struct {
	Result FaceResult
	// Card is the card read at the counter, to compare with the result;
	// nil when there is none.
	Card *CardFacts
	// Counter selects the form for a counter page: no paths of this
	// machine (path, copy, note), the file's base name, the checksum
	// always, and the comparison with the card as one "match" member
	// (the card, whether it agrees, and the disagreements).
	Counter bool
}

// NewFaceReport is the report of f, compared with card when card is not
// nil and names a holder (a name or a birth date).
func NewFaceReport(f FaceResult, card *CardFacts) FaceReport {
	if card != nil && card.Name == "" && card.BirthDate == "" {
		card = nil
	}
	return FaceReport{Result: f, Card: card}
}

// Eligibility is the result's eligibility; nil when the file could not be
// read.
func (r FaceReport) Eligibility() *Eligibility {
	if r.Result.Err != nil {
		return nil
	}
	e := r.Result.Eligibility()
	return &e
}

// Disagreements are the ways the result does not fit the card: nil
// without a card (or for a file that could not be read), an empty list
// when they agree.
func (r FaceReport) Disagreements() []Disagreement {
	if r.Card == nil || r.Result.Err != nil {
		return nil
	}
	d := Match(*r.Card, r.Result)
	if d == nil {
		d = []Disagreement{}
	}
	return d
}

// faceReportJSON is the JSON form, member by member.
type faceReportJSON struct {
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

// faceCounterJSON is the counter page's form.
type faceCounterJSON struct {
	File        string       `json:"file"`
	Time        string       `json:"time,omitempty"`
	SHA256      string       `json:"sha256"`
	Error       string       `json:"error,omitempty"`
	Eligibility *Eligibility `json:"eligibility,omitempty"`
	Match       *faceMatch   `json:"match,omitempty"`
}

type faceMatch struct {
	Card          CardFacts      `json:"card"`
	Agrees        bool           `json:"agrees"`
	Disagreements []Disagreement `json:"disagreements"`
}

// MarshalJSON writes the report: the time from the file name in RFC 3339,
// an unreadable file's error instead of its eligibility, and the
// disagreements only when a card was given. Characters such as < and & are
// written as they are; an encoder that escapes HTML escapes them.
func (r FaceReport) MarshalJSON() ([]byte, error) {
	if r.Counter {
		return r.marshalCounter()
	}
	f := r.Result
	out := faceReportJSON{File: f.Name, Path: f.Path, SHA256: f.SHA256, Copy: f.CopyPath, Note: f.Note,
		Eligibility: r.Eligibility(), Disagreements: r.Disagreements()}
	if !f.Time.IsZero() {
		out.Time = f.Time.Format(time.RFC3339)
	}
	if f.Err != nil {
		out.Error = f.Err.Error()
	}
	return marshalPlain(out)
}

func (r FaceReport) marshalCounter() ([]byte, error) {
	f := r.Result
	out := faceCounterJSON{File: filepath.Base(f.Name), SHA256: f.SHA256, Eligibility: r.Eligibility()}
	if !f.Time.IsZero() {
		out.Time = f.Time.Format(time.RFC3339)
	}
	if f.Err != nil {
		out.Error = f.Err.Error()
	} else if r.Card != nil {
		d := r.Disagreements()
		out.Match = &faceMatch{Card: *r.Card, Agrees: len(d) == 0, Disagreements: d}
	}
	return marshalPlain(out)
}

// marshalPlain is json.Marshal without HTML escaping: an encoder that
// escapes HTML escapes the result as it copies it.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
