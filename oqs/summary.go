package oqs

import (
	"strconv"
	"strings"
)

// Eligibility is a result put plainly: codes with their labels, dates as
// YYYY-MM-DD, insurer numbers trimmed. Its JSON form is the one
// README.md documents, field by field.
type Eligibility struct {
	Kind                    string                 `json:"kind"` // confirm-result or face-result
	Outcome                 Outcome                `json:"outcome"`
	Success                 bool                   `json:"success"`
	Reasons                 []string               `json:"reasons,omitempty"`
	Notice                  string                 `json:"notice,omitempty"`
	Validity                Code                   `json:"validity"`
	SegmentOfResult         Code                   `json:"segment_of_result"`
	ProcessingStatus        Code                   `json:"processing_status"`
	ProcessingCode          string                 `json:"processing_code,omitempty"`
	ProcessingMessage       string                 `json:"processing_message,omitempty"`
	ErrorCode               string                 `json:"error_code,omitempty"`
	ErrorMessage            string                 `json:"error_message,omitempty"`
	ReferenceClassification *Code                  `json:"reference_classification,omitempty"`
	ConfirmationDate        string                 `json:"confirmation_date,omitempty"`
	ProcessedAt             string                 `json:"processed_at,omitempty"`
	MedicalInstitutionCode  string                 `json:"medical_institution_code,omitempty"`
	FileIdentifier          string                 `json:"file_identifier,omitempty"`
	Encoding                string                 `json:"encoding"`
	Warnings                []string               `json:"warnings,omitempty"`
	Qualifications          []QualificationSummary `json:"qualifications"`
}

// QualificationSummary is one ResultOfQualificationConfirmation put plainly.
type QualificationSummary struct {
	InsurerNumber      string `json:"insurer_number"`
	InsurerName        string `json:"insurer_name"`
	Symbol             string `json:"symbol,omitempty"`
	Number             string `json:"number,omitempty"`
	Branch             string `json:"branch,omitempty"`
	CardClassification *Code  `json:"card_classification,omitempty"`
	PersonalFamily     *Code  `json:"personal_family,omitempty"`
	InsuredName        string `json:"insured_name,omitempty"`
	Name               string `json:"name"`
	NameKana           string `json:"name_kana,omitempty"`
	NameOfOther        string `json:"name_of_other,omitempty"`
	NameOfOtherKana    string `json:"name_of_other_kana,omitempty"`
	BirthDate          string `json:"birth_date"`
	Sex                *Code  `json:"sex,omitempty"`
	Sex2               *Code  `json:"sex2,omitempty"`
	Address            string `json:"address,omitempty"`
	PostNumber         string `json:"post_number,omitempty"`
	QualifiedOn        string `json:"qualified_on,omitempty"`
	DisqualifiedOn     string `json:"disqualified_on,omitempty"`
	ReasonOfLoss       *Code  `json:"reason_of_loss,omitempty"`
	CardIssuedOn       string `json:"card_issued_on,omitempty"`
	CardValidFrom      string `json:"card_valid_from,omitempty"`
	CardValidUntil     string `json:"card_valid_until,omitempty"`
	ContributionRatio  *Ratio `json:"contribution_ratio,omitempty"`
	Preschool          *Code  `json:"preschool,omitempty"`

	ElderlyRecipient *ElderlySummary      `json:"elderly_recipient,omitempty"`
	LimitConsent     *Consent             `json:"limit_consent,omitempty"`
	Limit            *LimitSummary        `json:"limit,omitempty"`
	DiseasesConsent  *Consent             `json:"specific_diseases_consent,omitempty"`
	SpecificDiseases []DiseaseSummary     `json:"specific_diseases,omitempty"`
	MedicalTickets   []MedicalTicketBrief `json:"medical_tickets,omitempty"`
	Consents         []Consent            `json:"consents,omitempty"`

	ReferenceNumber     string `json:"reference_number,omitempty"`
	ArbitraryIdentifier string `json:"arbitrary_identifier,omitempty"`
	PrescriptionIssue   *Code  `json:"prescription_issue,omitempty"`
	PublicExpenseNumber string `json:"public_expense_number,omitempty"`
	BeneficiaryNumber   string `json:"beneficiary_number,omitempty"`
	WelfareOfficeName   string `json:"welfare_office_name,omitempty"`
	// UnknownElements names the elements kept but not understood.
	UnknownElements []string `json:"unknown_elements,omitempty"`
}

// Ratio is a 一部負担金割合: the 3-digit percentage as sent, the percentage
// and the 割 a clerk says.
type Ratio struct {
	Code    string `json:"code"`
	Percent int    `json:"percent"`
	Label   string `json:"label"` // e.g. 3割
}

// ElderlySummary is 高齢受給者証情報.
type ElderlySummary struct {
	IssuedOn          string `json:"issued_on,omitempty"`
	ValidFrom         string `json:"valid_from,omitempty"`
	ValidUntil        string `json:"valid_until,omitempty"`
	ContributionRatio *Ratio `json:"contribution_ratio,omitempty"`
}

// LimitSummary is 限度額適用認定証関連情報.
type LimitSummary struct {
	Certificate  *Code  `json:"certificate,omitempty"` // OQSCD011
	Category     *Code  `json:"category,omitempty"`    // OQSCD012 適用区分
	IssuedOn     string `json:"issued_on,omitempty"`
	ValidFrom    string `json:"valid_from,omitempty"`
	ValidUntil   string `json:"valid_until,omitempty"`
	LongTermFrom string `json:"long_term_from,omitempty"` // 長期入院該当年月日
}

// DiseaseSummary is one 特定疾病療養受療証.
type DiseaseSummary struct {
	Category   Code   `json:"category"`
	IssuedOn   string `json:"issued_on,omitempty"`
	ValidFrom  string `json:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until,omitempty"`
	SelfPayYen string `json:"self_pay_yen,omitempty"` // 自己負担限度額（月額）
}

// MedicalTicketBrief is the part of a 医療券 a counter needs.
type MedicalTicketBrief struct {
	TicketType      string   `json:"ticket_type,omitempty"`
	ValidFrom       string   `json:"valid_from,omitempty"`
	ValidUntil      string   `json:"valid_until,omitempty"`
	IssueNumber     string   `json:"issue_number,omitempty"`
	TreatmentMonth  string   `json:"treatment_month,omitempty"`
	Institution     string   `json:"designated_institution,omitempty"`
	InstitutionCode string   `json:"designated_institution_code,omitempty"`
	SelfPayAmount   string   `json:"self_pay_amount,omitempty"`
	InjuryNames     []string `json:"injury_names,omitempty"`
}

// Consent is one consent flag with its times.
type Consent struct {
	Item           string `json:"item"` // e.g. pharmacists_info
	Japanese       string `json:"ja"`
	English        string `json:"en"`
	Flag           Code   `json:"flag"`
	Time           string `json:"time,omitempty"`
	AvailableUntil string `json:"available_until,omitempty"`
}

// Summarize puts r plainly. kind is KindConfirmResult or KindFaceResult.
func Summarize(r *ConfirmResult, kind Kind) Eligibility {
	in := Interpret(r)
	h, b := &r.Header, &r.Body
	e := Eligibility{
		Kind:                    kind.String(),
		Outcome:                 in.Outcome,
		Success:                 in.Success(),
		Reasons:                 in.Reasons,
		Notice:                  in.Notice,
		Validity:                code("QualificationValidity", b.QualificationValidity),
		SegmentOfResult:         code("SegmentOfResult", h.SegmentOfResult),
		ProcessingStatus:        code("ProcessingResultStatus", b.ProcessingResultStatus),
		ProcessingCode:          strings.TrimSpace(b.ProcessingResultCode),
		ProcessingMessage:       strings.TrimSpace(b.ProcessingResultMessage),
		ErrorCode:               strings.TrimSpace(h.ErrorCode),
		ErrorMessage:            strings.TrimSpace(h.ErrorMessage),
		ReferenceClassification: codePtr("ReferenceClassification", h.ReferenceClassification),
		ConfirmationDate:        isoDate(h.QualificationConfirmationDate),
		ProcessedAt:             isoTime(h.ProcessExecutionTime),
		MedicalInstitutionCode:  strings.TrimSpace(h.MedicalInstitutionCode),
		FileIdentifier:          strings.TrimSpace(h.ArbitraryFileIdentifier),
		Encoding:                r.Source.Encoding.String(),
		Warnings:                r.Source.Warnings,
		Qualifications:          []QualificationSummary{},
	}
	for _, q := range r.Qualifications() {
		s := summarizeQualification(&q)
		if s.PrescriptionIssue == nil {
			s.PrescriptionIssue = codePtr("PrescriptionIssueSelect", b.PrescriptionIssueSelect)
		}
		e.Qualifications = append(e.Qualifications, s)
	}
	return e
}

func summarizeQualification(q *Qualification) QualificationSummary {
	s := QualificationSummary{
		InsurerNumber:       TrimInsurer(q.InsurerNumber),
		InsurerName:         strings.TrimSpace(q.InsurerName),
		Symbol:              strings.TrimSpace(q.InsuredCardSymbol),
		Number:              strings.TrimSpace(q.InsuredIdentificationNumber),
		Branch:              strings.TrimSpace(q.InsuredBranchNumber),
		CardClassification:  codePtr("InsuredCardClassification", q.InsuredCardClassification),
		PersonalFamily:      codePtr("PersonalFamilyClassification", q.PersonalFamilyClassification),
		InsuredName:         q.InsuredName,
		Name:                q.Name,
		NameKana:            q.NameKana,
		NameOfOther:         q.NameOfOther,
		NameOfOtherKana:     q.NameOfOtherKana,
		BirthDate:           isoDate(q.Birthdate),
		Sex:                 codePtr("Sex1", q.Sex1),
		Sex2:                codePtr("Sex2", q.Sex2),
		Address:             q.Address,
		PostNumber:          strings.TrimSpace(q.PostNumber),
		QualifiedOn:         isoDate(q.QualificationDate),
		DisqualifiedOn:      isoDate(q.DisqualificationDate),
		ReasonOfLoss:        codePtr("ReasonOfLoss", q.ReasonOfLoss),
		CardIssuedOn:        isoDate(q.InsuredCertificateIssuanceDate),
		CardValidFrom:       isoDate(q.InsuredCardValidDate),
		CardValidUntil:      isoDate(q.InsuredCardExpirationDate),
		ContributionRatio:   ratio(q.InsuredPartialContributionRatio),
		Preschool:           codePtr("PreschoolClassification", q.PreschoolClassification),
		ReferenceNumber:     strings.TrimSpace(q.ReferenceNumber),
		ArbitraryIdentifier: strings.TrimSpace(q.ArbitraryIdentifier),
		PrescriptionIssue:   codePtr("PrescriptionIssueSelect", q.PrescriptionIssueSelect),
		PublicExpenseNumber: strings.TrimSpace(q.PublicExpenseNumber),
		BeneficiaryNumber:   strings.TrimSpace(q.BeneficiaryNumber),
		WelfareOfficeName:   strings.TrimSpace(q.WelfareOfficeName),
	}
	if e := q.ElderlyRecipientCertificateInfo; e != nil {
		s.ElderlyRecipient = &ElderlySummary{
			IssuedOn: isoDate(e.ElderlyRecipientCertificateDate), ValidFrom: isoDate(e.ElderlyRecipientValidStartDate),
			ValidUntil: isoDate(e.ElderlyRecipientValidEndDate), ContributionRatio: ratio(e.ElderlyRecipientContributionRatio),
		}
	}
	if q.LimitApplicationCertificateRelatedConsFlg != "" {
		s.LimitConsent = &Consent{Item: "limit_certificate", Japanese: "限度額適用認定証", English: "limit certificate",
			Flag: code("LimitApplicationCertificateRelatedConsFlg", q.LimitApplicationCertificateRelatedConsFlg),
			Time: isoTime(q.LimitApplicationCertificateRelatedConsTime)}
	}
	if l := q.LimitApplicationCertificateRelatedInfo; l != nil {
		s.Limit = &LimitSummary{
			Certificate: codePtr("LimitApplicationCertificateClassification", l.LimitApplicationCertificateClassification),
			Category:    codePtr("LimitApplicationCertificateClassificationFlag", l.LimitApplicationCertificateClassificationFlag),
			IssuedOn:    isoDate(l.LimitApplicationCertificateDate), ValidFrom: isoDate(l.LimitApplicationCertificateValidStartDate),
			ValidUntil: isoDate(l.LimitApplicationCertificateValidEndDate), LongTermFrom: isoDate(l.LimitApplicationCertificateLongTermDate),
		}
	}
	if q.SpecificDiseasesCertificateRelatedConsFlg != "" {
		s.DiseasesConsent = &Consent{Item: "specific_diseases_certificate", Japanese: "特定疾病療養受療証", English: "specific disease certificate",
			Flag: code("SpecificDiseasesCertificateRelatedConsFlg", q.SpecificDiseasesCertificateRelatedConsFlg),
			Time: isoTime(q.SpecificDiseasesCertificateRelatedConsTime)}
	}
	for _, d := range q.SpecificDiseasesCertificateList.Certificates {
		s.SpecificDiseases = append(s.SpecificDiseases, DiseaseSummary{
			Category: code("SpecificDiseasesDiseaseCategory", d.SpecificDiseasesDiseaseCategory),
			IssuedOn: isoDate(d.SpecificDiseasesCertificateDate), ValidFrom: isoDate(d.SpecificDiseasesValidStartDate),
			ValidUntil: isoDate(d.SpecificDiseasesValidEndDate), SelfPayYen: strings.TrimSpace(d.SpecificDiseasesSelfPay),
		})
	}
	if p := q.PublicExpenseResultList; p != nil {
		for _, t := range p.MedicalTickets {
			m := MedicalTicketBrief{
				TicketType: strings.TrimSpace(t.TicketType), ValidFrom: isoDate(t.MedicalTicketValidDate),
				ValidUntil: isoDate(t.MedicalTicketExpirationDate), IssueNumber: strings.TrimSpace(t.IssueNumber),
				TreatmentMonth: strings.TrimSpace(t.MedicalTreatmentMonth), Institution: t.DesignatedMedicalInstitutionName,
				InstitutionCode: strings.TrimSpace(t.DesignatedMedicalInstitutionCode), SelfPayAmount: strings.TrimSpace(t.SelfPayAmount),
			}
			for _, n := range []string{t.InjuryName1, t.InjuryName2, t.InjuryName3} {
				if n != "" {
					m.InjuryNames = append(m.InjuryNames, n)
				}
			}
			s.MedicalTickets = append(s.MedicalTickets, m)
		}
	}
	for _, c := range []struct {
		item, ja, en, flag, time, until string
	}{
		{"specific_health_checkups_info", "特定健診情報", "health checkup information", q.SpecificHealthCheckupsInfoConsFlg, q.SpecificHealthCheckupsInfoConsTime, q.SpecificHealthCheckupsInfoAvailableTime},
		{"pharmacists_info", "薬剤情報", "medication information", q.PharmacistsInfoConsFlg, q.PharmacistsInfoConsTime, q.PharmacistsInfoAvailableTime},
		{"diagnosis_info", "診療情報", "diagnosis information", q.DiagnosisInfoConsFlg, q.DiagnosisInfoConsTime, q.DiagnosisInfoAvailableTime},
		{"operation_info", "手術情報", "operation information", q.OperationInfoConsFlg, q.OperationInfoConsTime, q.OperationInfoAvailableTime},
	} {
		if c.flag == "" && c.time == "" && c.until == "" {
			continue
		}
		s.Consents = append(s.Consents, Consent{Item: c.item, Japanese: c.ja, English: c.en,
			Flag: code("PharmacistsInfoConsFlg", c.flag), Time: isoTime(c.time), AvailableUntil: isoTime(c.until)})
	}
	for _, x := range q.Extra {
		s.UnknownElements = append(s.UnknownElements, x.Name)
	}
	return s
}

func code(element, v string) Code {
	c, _ := LookupCode(element, v)
	return c
}

func codePtr(element, v string) *Code {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	c := code(element, v)
	return &c
}

// ratio reads a 3-digit percentage such as 030.
func ratio(v string) *Ratio {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	r := &Ratio{Code: v}
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 || p > 100 {
		r.Percent = -1
		r.Label = "不明 unknown"
		return r
	}
	r.Percent = p
	if p%10 == 0 {
		r.Label = strconv.Itoa(p/10) + "割"
	} else {
		r.Label = strconv.Itoa(p) + "%"
	}
	return r
}

// isoDate turns YYYYMMDD into YYYY-MM-DD; anything else is returned as is.
func isoDate(v string) string {
	v = strings.TrimSpace(v)
	if len(v) == 8 && isDigits(v) {
		return v[:4] + "-" + v[4:6] + "-" + v[6:]
	}
	return v
}

// isoTime turns YYYYMMDDHHmmss into YYYY-MM-DDTHH:mm:ss (local time, as
// the terminal writes it); anything else is returned as is.
func isoTime(v string) string {
	v = strings.TrimSpace(v)
	if len(v) == 14 && isDigits(v) {
		return v[:4] + "-" + v[4:6] + "-" + v[6:8] + "T" + v[8:10] + ":" + v[10:12] + ":" + v[12:]
	}
	return isoDate(v)
}
