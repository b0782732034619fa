package oqs

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// File-name prefixes of the kinds this package reads and writes. A result
// has its request's name with req replaced by res.
const (
	PrefixConfirmRequest      = "OQSsiquc01req_"      // 資格確認要求 (OQS-IF-001)
	PrefixConfirmResult       = "OQSsiquc01res_"      // 資格確認結果 (OQS-IF-002)
	PrefixFaceResult          = "OQSsiquc01res_face_" // the same layout, unsolicited, in face
	PrefixRegistrationRequest = "OQSsiimm01req_"      // 照会番号登録要求 (OQS-IF-003)
	PrefixRegistrationResult  = "OQSsiimm01res_"      // 照会番号登録結果 (OQS-IF-004)
)

// Kind says what a file is, from its name.
type Kind int

// The kinds of file, by prefix.
const (
	KindUnknown Kind = iota
	KindConfirmRequest
	KindConfirmResult
	KindFaceResult
	KindRegistrationRequest
	KindRegistrationResult
)

func (k Kind) String() string {
	switch k {
	case KindConfirmRequest:
		return "confirm-request"
	case KindConfirmResult:
		return "confirm-result"
	case KindFaceResult:
		return "face-result"
	case KindRegistrationRequest:
		return "registration-request"
	case KindRegistrationResult:
		return "registration-result"
	}
	return "unknown"
}

// ErrUnknownPrefix is returned for a file whose name has no prefix this
// package knows.
var ErrUnknownPrefix = errors.New("oqs: unknown file-name prefix")

// KindOf tells the kind of a file from its base name.
func KindOf(name string) (Kind, error) {
	switch {
	case strings.HasPrefix(name, PrefixFaceResult):
		return KindFaceResult, nil
	case strings.HasPrefix(name, PrefixConfirmRequest):
		return KindConfirmRequest, nil
	case strings.HasPrefix(name, PrefixConfirmResult):
		return KindConfirmResult, nil
	case strings.HasPrefix(name, PrefixRegistrationRequest):
		return KindRegistrationRequest, nil
	case strings.HasPrefix(name, PrefixRegistrationResult):
		return KindRegistrationResult, nil
	}
	return KindUnknown, fmt.Errorf("%w: %q (known: %s, %s, %s, %s)", ErrUnknownPrefix, name,
		PrefixConfirmRequest, PrefixConfirmResult, PrefixRegistrationRequest, PrefixRegistrationResult)
}

// <SYS><kind><NN>req_ as in OQSsiquc01req_ or OQSmuquc02req_.
var reqPrefix = regexp.MustCompile(`^([A-Z]{3}[a-z]+[0-9]{2})req_`)

// ResultName is the name the terminal answers a request under: the
// request's name with req replaced by res.
func ResultName(requestName string) (string, error) {
	if !reqPrefix.MatchString(requestName) {
		return "", fmt.Errorf("%w: %q is not a request name", ErrUnknownPrefix, requestName)
	}
	return reqPrefix.ReplaceAllString(requestName, "${1}res_"), nil
}

// MaxSequence is the last request number of a day: the suffix has four
// digits.
const MaxSequence = 9999

// RequestName is prefix + yyyyMMdd + 4-digit sequence + ".xml", the
// 12-digit suffix real terminals are known to accept.
func RequestName(prefix string, day time.Time, seq int) string {
	return fmt.Sprintf("%s%s%04d.xml", prefix, day.Format("20060102"), seq)
}

// FaceName is what a face-folder file name says: the terminal's 医療機関コード
// (the first 10 characters after the prefix, when they are digits) and the
// local time it was written.
type FaceName struct {
	MedicalInstitutionCode string
	Time                   time.Time
}

var faceName = regexp.MustCompile(`^OQSsiquc01res_face_([0-9A-Za-z]*)_(\d{14})\.xml$`)

// ParseFaceName reads a name such as
// OQSsiquc01res_face_<10-digit code><20 hex>_<yyyyMMddHHmmss>.xml, taking
// the time in loc. Only the trailing timestamp is relied on.
func ParseFaceName(name string, loc *time.Location) (FaceName, error) {
	m := faceName.FindStringSubmatch(name)
	if m == nil {
		return FaceName{}, fmt.Errorf("%w: %q is not a face-folder result name", ErrUnknownPrefix, name)
	}
	t, err := time.ParseInLocation("20060102150405", m[2], loc)
	if err != nil {
		return FaceName{}, fmt.Errorf("%w: %q: bad timestamp: %v", ErrUnknownPrefix, name, err)
	}
	fn := FaceName{Time: t}
	if len(m[1]) >= 10 && isDigits(m[1][:10]) {
		fn.MedicalInstitutionCode = m[1][:10]
	}
	return fn, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
