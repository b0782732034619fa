package oqs

import (
	"context"
	"fmt"
	"path/filepath"
)

// ParseConfirmRequest reads a 資格確認要求 file in either encoding.
func ParseConfirmRequest(b []byte) (*ConfirmRequest, error) {
	var r ConfirmRequest
	src, err := decodeDocument(b, DefaultMaxFileSize, "XmlMsg", &r)
	if err != nil {
		return nil, err
	}
	r.Source = src
	if r.Header.XMLName.Local == "" || r.Body.XMLName.Local == "" {
		return nil, fmt.Errorf("%w: request without MessageHeader or MessageBody", ErrMalformed)
	}
	return &r, nil
}

// ParseConfirmResult reads a 資格確認結果 file, from res or face, in either
// encoding and with its elements in any order.
func ParseConfirmResult(b []byte) (*ConfirmResult, error) {
	var r ConfirmResult
	src, err := decodeDocument(b, DefaultMaxFileSize, "XmlMsg", &r)
	if err != nil {
		return nil, err
	}
	r.Source = src
	if r.Header.XMLName.Local == "" {
		return nil, fmt.Errorf("%w: result without MessageHeader", ErrMalformed)
	}
	// A whole-message failure may come without a body; anything else needs one.
	if r.Body.XMLName.Local == "" && r.Header.SegmentOfResult == "1" {
		return nil, fmt.Errorf("%w: result without MessageBody", ErrMalformed)
	}
	checkCharacterCode(&r.Source, r.Header.CharacterCodeIdentifier)
	return &r, nil
}

// ParseRegistrationRequest reads a 照会番号登録要求 file.
func ParseRegistrationRequest(b []byte) (*RegistrationRequest, error) {
	var r RegistrationRequest
	src, err := decodeDocument(b, DefaultMaxFileSize, "XmlMsg", &r)
	if err != nil {
		return nil, err
	}
	r.Source = src
	if r.Header.XMLName.Local == "" || r.Body.XMLName.Local == "" {
		return nil, fmt.Errorf("%w: request without MessageHeader or MessageBody", ErrMalformed)
	}
	return &r, nil
}

// ParseRegistrationResult reads a 照会番号登録結果 file.
func ParseRegistrationResult(b []byte) (*RegistrationResult, error) {
	var r RegistrationResult
	src, err := decodeDocument(b, DefaultMaxFileSize, "XmlMsg", &r)
	if err != nil {
		return nil, err
	}
	r.Source = src
	if r.Header.XMLName.Local == "" {
		return nil, fmt.Errorf("%w: result without MessageHeader", ErrMalformed)
	}
	checkCharacterCode(&r.Source, r.Header.CharacterCodeIdentifier)
	return &r, nil
}

// checkCharacterCode notes an identifier that is neither 0 nor 1.
func checkCharacterCode(src *Source, id string) {
	if id == "" {
		return
	}
	if _, ok := encodingForCharacterCode(id); !ok {
		src.Warnings = append(src.Warnings, fmt.Sprintf("unknown CharacterCodeIdentifier %q", id))
	}
}

// File is one decoded file of any known kind; exactly one pointer is set.
type File struct {
	Name                string
	Kind                Kind
	ConfirmRequest      *ConfirmRequest
	ConfirmResult       *ConfirmResult // also for face results
	RegistrationRequest *RegistrationRequest
	RegistrationResult  *RegistrationResult
}

// ParseFile decodes a file by the prefix of its base name. A name with no
// known prefix is refused with ErrUnknownPrefix before its bytes are read.
func ParseFile(name string, b []byte) (*File, error) {
	k, err := KindOf(name)
	if err != nil {
		return nil, err
	}
	f := &File{Name: name, Kind: k}
	switch k {
	case KindConfirmRequest:
		f.ConfirmRequest, err = ParseConfirmRequest(b)
	case KindConfirmResult, KindFaceResult:
		f.ConfirmResult, err = ParseConfirmResult(b)
	case KindRegistrationRequest:
		f.RegistrationRequest, err = ParseRegistrationRequest(b)
	case KindRegistrationResult:
		f.RegistrationResult, err = ParseRegistrationResult(b)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// ReadFile reads and decodes one file, refusing unknown prefixes before
// reading and files over DefaultMaxFileSize. The file is left as it is.
func ReadFile(path string) (*File, error) {
	name := filepath.Base(path)
	if _, err := KindOf(name); err != nil {
		return nil, err
	}
	b, err := readCapped(context.Background(), DefaultFileTimeout, path, DefaultMaxFileSize)
	if err != nil {
		return nil, err
	}
	return ParseFile(name, b)
}

// RequestSummary is a 資格確認要求 put plainly, in the JSON form README.md
// documents for a request.
type RequestSummary struct {
	Kind                   string `json:"kind"`
	Encoding               string `json:"encoding"`
	MedicalInstitutionCode string `json:"medical_institution_code"`
	ConfirmationDate       string `json:"confirmation_date"`
	FileIdentifier         string `json:"file_identifier,omitempty"`
	InsurerNumber          string `json:"insurer_number"`
	InsurerNumberAsSent    string `json:"insurer_number_as_sent"`
	Symbol                 string `json:"symbol,omitempty"`
	Number                 string `json:"number"`
	Branch                 string `json:"branch,omitempty"`
	BirthDate              string `json:"birth_date"`
	LimitConsent           Code   `json:"limit_consent"`
	ArbitraryIdentifier    string `json:"arbitrary_identifier,omitempty"`
}

// SummarizeRequest puts a request plainly.
func SummarizeRequest(r *ConfirmRequest) RequestSummary {
	s := r.Body.SearchInfo
	return RequestSummary{
		Kind: KindConfirmRequest.String(), Encoding: r.Source.Encoding.String(),
		MedicalInstitutionCode: r.Header.MedicalInstitutionCode, ConfirmationDate: isoDate(r.Header.QualificationConfirmationDate),
		FileIdentifier: r.Header.ArbitraryFileIdentifier, InsurerNumber: TrimInsurer(s.InsurerNumber), InsurerNumberAsSent: s.InsurerNumber,
		Symbol: s.InsuredCardSymbol, Number: s.InsuredIdentificationNumber, Branch: s.InsuredBranchNumber,
		BirthDate: isoDate(s.Birthdate), LimitConsent: code("LimitApplicationCertificateRelatedConsFlg", s.LimitApplicationCertificateRelatedConsFlg),
		ArbitraryIdentifier: s.ArbitraryIdentifier,
	}
}
