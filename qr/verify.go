package qr

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/myna"
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
	// BirthDate (YYYY-MM-DD) is in both kinds.
	BirthDate string `json:"birth_date,omitempty"`
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
		a, err := parseAttributes(p.Record)
		if err != nil {
			return fail(err.Error())
		}
		r.Name, r.Address, r.BirthDate, r.Sex = a.name, a.address, a.birth, a.sex
		role, cvName, recName = trust.RoleText, trust.CheckTextCV, trust.CheckTextIntegrity
		signed, what = integritySigned(p), "integrity record (digests of the basic facts and of the My Number file)"
		format.Detail = "attributes code, version 1: name, address, birth date and sex as the text applet stores them"
	}
	cvCheck := cv.Verify(store, role, cvName)
	rec := trust.Check{Name: recName, Anchor: cvCheck.Anchor, Production: cvCheck.Production}
	switch {
	case verifyUnder(cv.PublicKey, signed, p.Signature) != nil:
		rec.Result, rec.Detail = trust.Fail, what+": J-LIS signature does not verify"
	case cvCheck.Result == trust.Pass:
		rec.Result, rec.Detail = trust.Pass, what+": J-LIS signature verifies"
	default:
		rec.Result, rec.Detail = trust.Unknown, what+": signature verifies, but under an unverified card-verifiable certificate"
	}
	r.Checks = []trust.Check{format, cvCheck, rec}
	r.Verdict = trust.Decide(r.Checks)
	return r
}

// parseAgeRecord reads DF11 (YYYYMMDD) ‖ DF12 (card key) and returns the
// birth date as YYYY-MM-DD.
func parseAgeRecord(b []byte) (string, error) {
	objs, err := apdu.ParseTLVs(b)
	if err != nil || len(objs) != 2 || objs[0].Tag != 0xDF11 || objs[1].Tag != 0xDF12 {
		return "", fmt.Errorf("age record: want exactly DF11 and DF12")
	}
	birth, err := isoDate(objs[0].Value)
	if err != nil {
		return "", fmt.Errorf("age record birth date: %v", err)
	}
	if _, err := cardap.ParseRSAPublicKey(objs[1].Value); err != nil {
		return "", fmt.Errorf("age record card key: %v", err)
	}
	return birth, nil
}

type attributes struct {
	name, address, birth string
	sex                  cardap.Sex
}

// parseAttributes reads DF22 (name) ‖ DF23 (address) ‖ DF24 (YYYYMMDD) ‖
// DF25 (sex digit), in that order and nothing else.
func parseAttributes(b []byte) (attributes, error) {
	objs, err := apdu.ParseTLVs(b)
	if err != nil || len(objs) != 4 {
		return attributes{}, fmt.Errorf("basic facts: want exactly DF22, DF23, DF24 and DF25")
	}
	for i, tag := range []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25} {
		if objs[i].Tag != tag {
			return attributes{}, fmt.Errorf("basic facts: want exactly DF22, DF23, DF24 and DF25")
		}
	}
	if !utf8.Valid(objs[0].Value) || !utf8.Valid(objs[1].Value) {
		return attributes{}, fmt.Errorf("basic facts: name or address is not UTF-8")
	}
	birth, err := isoDate(objs[2].Value)
	if err != nil {
		return attributes{}, fmt.Errorf("basic facts birth date: %v", err)
	}
	if len(objs[3].Value) != 1 {
		return attributes{}, fmt.Errorf("basic facts: sex is not one digit")
	}
	return attributes{name: string(objs[0].Value), address: string(objs[1].Value), birth: birth, sex: cardap.ParseSex(string(objs[3].Value))}, nil
}

// isoDate turns YYYYMMDD into YYYY-MM-DD if it is a calendar date.
func isoDate(b []byte) (string, error) {
	if !myna.Digits(string(b), 8) {
		return "", fmt.Errorf("not 8 digits")
	}
	d, err := time.Parse("20060102", string(b))
	if err != nil {
		return "", fmt.Errorf("not a calendar date")
	}
	return d.Format("2006-01-02"), nil
}
