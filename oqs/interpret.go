package oqs

import (
	"fmt"
	"strings"
)

// Outcome is what a 資格確認結果 means for the counter.
type Outcome string

// The outcomes. Only OutcomeValid is a success.
const (
	OutcomeValid             Outcome = "valid"              // 有効, exactly one qualification
	OutcomeInvalid           Outcome = "invalid"            // 無効
	OutcomeInvalidNewer      Outcome = "invalid-newer"      // 無効（新しい資格あり）
	OutcomeNotFound          Outcome = "not-found"          // 該当資格なし
	OutcomeMultiple          Outcome = "multiple"           // 複数該当
	OutcomeValidUnregistered Outcome = "valid-unregistered" // 有効（未登録）, 医療扶助 only
	OutcomeProcessing        Outcome = "processing"         // 処理中: ask again later
	OutcomeError             Outcome = "error"              // the terminal or the service failed, or the file contradicts itself
)

// Interpretation is the verdict on one result and the reasons for it.
type Interpretation struct {
	Outcome Outcome
	// Reasons say, in English with the Japanese label, each condition for
	// success that the result does not meet. Empty for a success.
	Reasons []string
	// Notice is the 付帯情報 the terminal may attach even to a success
	// (ProcessingResultCode and its message), to be shown as is.
	Notice string
}

// Success reports whether the result confirms one valid qualification.
func (i Interpretation) Success() bool { return i.Outcome == OutcomeValid }

// Interpret applies the rule the sources agree on: a result is a success
// only when SegmentOfResult is 1 (正常終了), there is no ErrorCode,
// ProcessingResultStatus is 1, QualificationValidity is 1 and there is
// exactly one ResultOfQualificationConfirmation. A result file existing is
// not a success by itself.
func Interpret(r *ConfirmResult) Interpretation {
	var in Interpretation
	h, b := &r.Header, &r.Body
	if c := strings.TrimSpace(b.ProcessingResultCode); c != "" || b.ProcessingResultMessage != "" {
		in.Notice = strings.TrimSpace(c + " " + b.ProcessingResultMessage)
	}
	fail := func(o Outcome, format string, a ...any) Interpretation {
		if in.Outcome == "" {
			in.Outcome = o
		}
		in.Reasons = append(in.Reasons, fmt.Sprintf(format, a...))
		return in
	}
	switch seg := strings.TrimSpace(h.SegmentOfResult); seg {
	case "1":
	case "2":
		fail(OutcomeProcessing, "処理結果区分 SegmentOfResult 2: 処理中 still processing, ask again later")
	case "":
		fail(OutcomeError, "処理結果区分 SegmentOfResult missing")
	default:
		c, _ := LookupCode("SegmentOfResult", seg)
		fail(OutcomeError, "処理結果区分 SegmentOfResult %s: %s %s", seg, c.Japanese, c.English)
	}
	if h.ErrorCode != "" || h.ErrorMessage != "" {
		fail(OutcomeError, "エラー error %s %s", strings.TrimSpace(h.ErrorCode), strings.TrimSpace(h.ErrorMessage))
	}
	if in.Outcome != "" {
		return in // no body to judge
	}
	switch st := strings.TrimSpace(b.ProcessingResultStatus); st {
	case "1":
	case "2":
		fail(OutcomeError, "処理結果状況 ProcessingResultStatus 2: エラー error (%s)", orNone(in.Notice))
	case "":
		fail(OutcomeError, "処理結果状況 ProcessingResultStatus missing")
	default:
		fail(OutcomeError, "処理結果状況 ProcessingResultStatus %q unknown", st)
	}
	n := len(r.Qualifications())
	v := strings.TrimSpace(b.QualificationValidity)
	c, known := LookupCode("QualificationValidity", v)
	switch v {
	case "1":
		if n != 1 {
			fail(OutcomeError, "資格有効性 1 (有効 valid) but %d qualifications instead of one", n)
		}
	case "2":
		fail(OutcomeInvalid, "資格有効性 2: %s %s", c.Japanese, c.English)
	case "3":
		fail(OutcomeInvalidNewer, "資格有効性 3: %s %s", c.Japanese, c.English)
	case "4":
		fail(OutcomeNotFound, "資格有効性 4: %s %s", c.Japanese, c.English)
	case "5":
		fail(OutcomeMultiple, "資格有効性 5: %s %s (%d qualifications)", c.Japanese, c.English, n)
	case "6":
		fail(OutcomeValidUnregistered, "資格有効性 6: %s %s", c.Japanese, c.English)
	case "":
		fail(OutcomeError, "資格有効性 QualificationValidity missing")
	default:
		if !known {
			fail(OutcomeError, "資格有効性 QualificationValidity %q unknown", v)
		}
	}
	if in.Outcome == "" {
		in.Outcome = OutcomeValid
	}
	return in
}

func orNone(s string) string {
	if s == "" {
		return "no code given"
	}
	return s
}
