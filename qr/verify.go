package qr

import (
	"fmt"

	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// Result is what a code says and how far it can be believed.
//
// A genuine verdict means the facts carry J-LIS's signatures: some genuine
// card holds them. It does not mean the person showing the code holds that
// card, or any card: a code is data, and a copy of someone else's code
// verifies as well as the original. Only a card read at the counter with a
// presence proof shows the chip is there.
type Result struct {
	Kind Kind `json:"kind"`
	// BirthDate is in both kinds.
	BirthDate myna.Date `json:"birth_date,omitzero"`
	// Name, Address and Sex are in attributes codes only.
	Name    string     `json:"name,omitempty"`
	Address string     `json:"address,omitempty"`
	Sex     cardap.Sex `json:"sex,omitempty"`

	Checks  []trust.Check `json:"checks"`
	Verdict trust.Verdict `json:"verdict"`
}

// Verify checks a decoded payload against store: its content must have the
// card's formats (check qr:format), its CV certificate must verify under a
// J-LIS CV CA key of the right role, and the record signature under the
// certificate's key. The facts are filled in whenever the format check
// passes, whatever the verdict; the verdict comes from trust.Decide.
func Verify(p *Payload, store *trust.Store) *Result {
	r := &Result{Kind: p.Kind}
	format := trust.Check{Name: trust.CheckQRFormat, Result: trust.Pass}
	fail := func(detail string) *Result {
		format.Result, format.Detail = trust.Fail, detail
		r.Checks = []trust.Check{format}
		r.Verdict = trust.Decide(r.Checks)
		return r
	}
	if err := p.checkFields(); err != nil {
		return fail(err.Error())
	}
	cv, err := cardap.ParseCVCertificate(p.bareCV())
	if err != nil {
		return fail("CV certificate: " + err.Error())
	}
	var role trust.CVRole
	var cvName, recName trust.CheckName
	var signed []byte
	var what string
	switch p.Kind {
	case KindAge:
		birth, err := parseAgeRecord(p.Record)
		if err != nil {
			return fail(err.Error())
		}
		r.BirthDate = birth
		role, cvName, recName = trust.RoleSurface, trust.CheckSurfaceCV, trust.CheckSurfaceAge
		signed, what = p.Record, "age-verification record (birth date, card key)"
		format.Detail = "age code, version 1: birth date and card key as the card-face applet stores them"
	case KindAttributes:
		a, err := cardap.ParseBasicFacts(p.Record)
		if err != nil {
			return fail("basic facts: " + err.Error())
		}
		r.Name, r.Address, r.BirthDate, r.Sex = a.Name, a.Address, a.BirthDate, a.Sex
		role, cvName, recName = trust.RoleText, trust.CheckTextCV, trust.CheckTextIntegrity
		signed, what = integritySigned(p), "integrity record (digests of the basic facts and of the My Number file)"
		format.Detail = "attributes code, version 1: name, address, birth date and sex as the text applet stores them"
	}
	cvCheck := cv.Verify(store, role, cvName)
	rec := cv.CheckRecord(recName, cvCheck, signed, p.Signature, what)
	r.Checks = []trust.Check{format, cvCheck, rec}
	r.Verdict = trust.Decide(r.Checks)
	return r
}

// parseAgeRecord reads DF11 (YYYYMMDD) ‖ DF12 (card key) and returns the
// birth date.
func parseAgeRecord(b []byte) (myna.Date, error) {
	objs, err := tlv.ParseAll(b)
	if err != nil || len(objs) != 2 || objs[0].Tag != 0xDF11 || objs[1].Tag != 0xDF12 {
		return myna.Date{}, fmt.Errorf("age record: want exactly DF11 and DF12")
	}
	birth, err := cardap.ParseDate(objs[0].Value)
	if err != nil {
		return myna.Date{}, fmt.Errorf("age record birth date: %v", err)
	}
	if _, err := cardap.ParseRSAPublicKey(objs[1].Value); err != nil {
		return myna.Date{}, fmt.Errorf("age record card key: %v", err)
	}
	return birth, nil
}
