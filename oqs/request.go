package oqs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Request is what the clinic asks in a 資格確認要求: the data printed on the
// patient's insurance card.
type Request struct {
	InsurerNumber               string // 保険者番号, 6 or 8 digits (padded when sent)
	InsuredCardSymbol           string // 記号, may be empty
	InsuredIdentificationNumber string // 番号
	InsuredBranchNumber         string // 枝番, 2 digits or empty
	Birthdate                   string // YYYYMMDD or YYYY-MM-DD
	// LimitConsent says the patient agreed to share 限度額 information.
	LimitConsent bool
	// ArbitraryIdentifier is a per-patient key of the clinic's, echoed back.
	ArbitraryIdentifier string
	// Date is the day the question is about (YYYYMMDD or YYYY-MM-DD);
	// empty means today.
	Date string
}

// ErrInvalidRequest is returned for a request that cannot be sent.
var ErrInvalidRequest = errors.New("oqs: invalid request")

// Limits this package applies to free-text fields; the interface's own
// lengths are not public (one implementer uses the same caps).
const (
	maxNumberLen     = 20
	maxIdentifierLen = 50
)

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, a...))
}

// normalizeDate accepts YYYYMMDD or YYYY-MM-DD and returns YYYYMMDD.
func normalizeDate(field, s string) (string, error) {
	d := strings.ReplaceAll(strings.TrimSpace(s), "-", "")
	if len(d) != 8 || !isDigits(d) {
		return "", invalid("%s %q: want YYYYMMDD", field, s)
	}
	if _, err := time.Parse("20060102", d); err != nil {
		return "", invalid("%s %q is not a date", field, s)
	}
	return d, nil
}

func checkText(field, s string, max int) error {
	if utf8.RuneCountInString(s) > max {
		return invalid("%s is longer than %d characters", field, max)
	}
	return checkXMLText(field, s)
}

// normalized checks r and returns it with dates as YYYYMMDD, the insurer
// number trimmed and Date filled from now.
func (r Request) normalized(now time.Time) (Request, error) {
	r.InsurerNumber = TrimInsurer(r.InsurerNumber)
	if !isDigits(r.InsurerNumber) || (len(r.InsurerNumber) != 6 && len(r.InsurerNumber) != 8) {
		return r, invalid("insurer number %q: want 6 or 8 digits", r.InsurerNumber)
	}
	r.InsuredCardSymbol = strings.TrimSpace(r.InsuredCardSymbol)
	r.InsuredIdentificationNumber = strings.TrimSpace(r.InsuredIdentificationNumber)
	r.InsuredBranchNumber = strings.TrimSpace(r.InsuredBranchNumber)
	if r.InsuredIdentificationNumber == "" {
		return r, invalid("the insured person's number (被保険者証番号) is required")
	}
	if err := checkText("insured number", r.InsuredIdentificationNumber, maxNumberLen); err != nil {
		return r, err
	}
	if err := checkText("card symbol", r.InsuredCardSymbol, maxNumberLen); err != nil {
		return r, err
	}
	if r.InsuredBranchNumber != "" && (len(r.InsuredBranchNumber) != 2 || !isDigits(r.InsuredBranchNumber)) {
		return r, invalid("branch number %q: want 2 digits (keep the leading zero) or nothing", r.InsuredBranchNumber)
	}
	if err := checkText("arbitrary identifier", r.ArbitraryIdentifier, maxIdentifierLen); err != nil {
		return r, err
	}
	var err error
	if r.Birthdate, err = normalizeDate("birth date", r.Birthdate); err != nil {
		return r, err
	}
	if r.Date == "" {
		r.Date = now.Format("20060102")
	} else if r.Date, err = normalizeDate("confirmation date", r.Date); err != nil {
		return r, err
	}
	return r, nil
}

// key identifies the question, so a repeated call finds its pending job.
func (r Request) key(mic string) string {
	return strings.Join([]string{"confirm", mic, r.Date, r.InsurerNumber, r.InsuredCardSymbol,
		r.InsuredIdentificationNumber, r.InsuredBranchNumber, r.Birthdate, flag(r.LimitConsent), r.ArbitraryIdentifier}, "\x1f")
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// checkMIC checks a 医療機関コード: 10 digits.
func checkMIC(mic string) error {
	if len(mic) != 10 || !isDigits(mic) {
		return invalid("medical institution code %q: want 10 digits", mic)
	}
	return nil
}

// NewConfirmRequest builds the request document for r. Codes are checked,
// dates normalized, and the insurer number padded to 8 characters.
func NewConfirmRequest(mic, fileID string, r Request, now time.Time) (*ConfirmRequest, error) {
	if err := checkMIC(mic); err != nil {
		return nil, err
	}
	if err := checkText("arbitrary file identifier", fileID, maxIdentifierLen); err != nil {
		return nil, err
	}
	r, err := r.normalized(now)
	if err != nil {
		return nil, err
	}
	return &ConfirmRequest{
		Header: RequestHeader{QualificationConfirmationDate: r.Date, MedicalInstitutionCode: mic, ArbitraryFileIdentifier: fileID},
		Body: ConfirmRequestBody{SearchInfo: SearchInfo{
			InsurerNumber:               PadInsurer(r.InsurerNumber),
			InsuredCardSymbol:           r.InsuredCardSymbol,
			InsuredIdentificationNumber: r.InsuredIdentificationNumber,
			InsuredBranchNumber:         r.InsuredBranchNumber,
			Birthdate:                   r.Birthdate,
			LimitApplicationCertificateRelatedConsFlg: flag(r.LimitConsent),
			ArbitraryIdentifier:                       r.ArbitraryIdentifier,
		}},
	}, nil
}

// NewFileIdentifier makes an ArbitraryFileIdentifier: the time to the
// millisecond and 8 random hex digits, unique enough to tell our results
// from anyone else's.
func NewFileIdentifier(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%03d-%s", now.Format("20060102150405"), now.Nanosecond()/1e6, hex.EncodeToString(b[:]))
}

func optional(name, v string) []Element {
	if v == "" {
		return nil
	}
	return []Element{Leaf(name, v)}
}

// Element is the header as an element tree, in the order of the examples
// the sources show.
func (h *RequestHeader) Element() Element {
	var kids []Element
	kids = append(kids, optional("QualificationConfirmationDate", h.QualificationConfirmationDate)...)
	kids = append(kids, Leaf("MedicalInstitutionCode", h.MedicalInstitutionCode))
	kids = append(kids, optional("ArbitraryFileIdentifier", h.ArbitraryFileIdentifier)...)
	kids = append(kids, h.Extra...)
	return Group("MessageHeader", kids...)
}

// Element is the search info as an element tree. Empty symbol and branch
// are written as empty elements, as a setup reported to work does.
func (s *SearchInfo) Element() Element {
	kids := []Element{
		Leaf("InsurerNumber", s.InsurerNumber),
		Leaf("InsuredCardSymbol", s.InsuredCardSymbol),
		Leaf("InsuredIdentificationNumber", s.InsuredIdentificationNumber),
		Leaf("InsuredBranchNumber", s.InsuredBranchNumber),
		Leaf("Birthdate", s.Birthdate),
		Leaf("LimitApplicationCertificateRelatedConsFlg", s.LimitApplicationCertificateRelatedConsFlg),
	}
	kids = append(kids, optional("ArbitraryIdentifier", s.ArbitraryIdentifier)...)
	kids = append(kids, s.Extra...)
	return Group("QualificationConfirmSearchInfo", kids...)
}

// Element is the request as an element tree.
func (r *ConfirmRequest) Element() Element {
	body := Group("MessageBody", append([]Element{r.Body.SearchInfo.Element()}, r.Body.Extra...)...)
	return Group("XmlMsg", append([]Element{r.Header.Element(), body}, r.Extra...)...)
}

// Encode writes the request file in enc (Shift_JIS unless told otherwise).
func (r *ConfirmRequest) Encode(enc Encoding) ([]byte, error) {
	return EncodeDocument(r.Element(), enc)
}

// Element is the registration info as an element tree; an empty symbol or
// branch is left out.
func (i *RegistrationInfo) Element() Element {
	kids := []Element{Leaf("ReferenceNumber", i.ReferenceNumber), Leaf("InsurerNumber", i.InsurerNumber)}
	kids = append(kids, optional("InsuredCardSymbol", i.InsuredCardSymbol)...)
	kids = append(kids, Leaf("InsuredIdentificationNumber", i.InsuredIdentificationNumber))
	kids = append(kids, optional("InsuredBranchNumber", i.InsuredBranchNumber)...)
	kids = append(kids, i.Extra...)
	return Group("ReferenceNumberRegistrationInfo", kids...)
}

// Element is the registration request as an element tree.
func (r *RegistrationRequest) Element() Element {
	body := Group("MessageBody", append([]Element{r.Body.Info.Element()}, r.Body.Extra...)...)
	return Group("XmlMsg", append([]Element{r.Header.Element(), body}, r.Extra...)...)
}

// Encode writes the registration request in enc.
func (r *RegistrationRequest) Encode(enc Encoding) ([]byte, error) {
	return EncodeDocument(r.Element(), enc)
}

// Registration is what a clinic registers: the insurance-card data and the
// 照会番号 (for example its chart number) that face results will carry.
type Registration struct {
	ReferenceNumber             string
	InsurerNumber               string
	InsuredCardSymbol           string
	InsuredIdentificationNumber string
	InsuredBranchNumber         string
}

// NewRegistrationRequest builds a 照会番号登録要求.
func NewRegistrationRequest(mic, fileID string, g Registration) (*RegistrationRequest, error) {
	if err := checkMIC(mic); err != nil {
		return nil, err
	}
	ins := TrimInsurer(g.InsurerNumber)
	if !isDigits(ins) || (len(ins) != 6 && len(ins) != 8) {
		return nil, invalid("insurer number %q: want 6 or 8 digits", g.InsurerNumber)
	}
	ref := strings.TrimSpace(g.ReferenceNumber)
	if ref == "" {
		return nil, invalid("the reference number (照会番号) is required")
	}
	if err := checkText("reference number", ref, maxIdentifierLen); err != nil {
		return nil, err
	}
	if strings.TrimSpace(g.InsuredIdentificationNumber) == "" {
		return nil, invalid("the insured person's number (被保険者証番号) is required")
	}
	for _, f := range [][2]string{{"insured number", g.InsuredIdentificationNumber}, {"card symbol", g.InsuredCardSymbol}, {"branch number", g.InsuredBranchNumber}} {
		if err := checkText(f[0], f[1], maxNumberLen); err != nil {
			return nil, err
		}
	}
	return &RegistrationRequest{
		Header: RequestHeader{MedicalInstitutionCode: mic, ArbitraryFileIdentifier: fileID},
		Body: RegistrationRequestBody{Info: RegistrationInfo{
			ReferenceNumber:             ref,
			InsurerNumber:               PadInsurer(ins),
			InsuredCardSymbol:           strings.TrimSpace(g.InsuredCardSymbol),
			InsuredIdentificationNumber: strings.TrimSpace(g.InsuredIdentificationNumber),
			InsuredBranchNumber:         strings.TrimSpace(g.InsuredBranchNumber),
		}},
	}, nil
}
