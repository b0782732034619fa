package oqs

import (
	"encoding/xml"
	"strings"
)

// The types below mirror the interface's XML (element names are the
// interface's own, listed in oqs/README.md). Every code stays a string so
// leading zeros survive (0 in 枝番 "00", 3-digit ratios such as "010").
// Elements may come in any order; elements this package does not know are
// kept in the Extra fields, so nothing a newer terminal adds is lost.

// RequestHeader is the MessageHeader of a request.
type RequestHeader struct {
	XMLName xml.Name `xml:"MessageHeader"` // set when the element was present
	// QualificationConfirmationDate (資格確認日) is the YYYYMMDD date the
	// question is about; registration requests leave it empty.
	QualificationConfirmationDate string `xml:"QualificationConfirmationDate,omitempty"`
	// MedicalInstitutionCode (医療機関コード): 10 digits.
	MedicalInstitutionCode string `xml:"MedicalInstitutionCode"`
	// ArbitraryFileIdentifier (任意のファイル識別子) is set by the clinic and
	// echoed by the terminal: the second check that a result is ours.
	ArbitraryFileIdentifier string    `xml:"ArbitraryFileIdentifier,omitempty"`
	Extra                   []Element `xml:",any"`
}

// SearchInfo is QualificationConfirmSearchInfo (資格確認照会用情報): what is
// asked about, as printed on the insurance card.
type SearchInfo struct {
	// InsurerNumber (保険者番号): 8 characters on the wire, 6-digit numbers
	// right-aligned with spaces. Compare with TrimInsurer.
	InsurerNumber               string `xml:"InsurerNumber"`
	InsuredCardSymbol           string `xml:"InsuredCardSymbol"`           // 記号, may be empty
	InsuredIdentificationNumber string `xml:"InsuredIdentificationNumber"` // 番号
	InsuredBranchNumber         string `xml:"InsuredBranchNumber"`         // 枝番, 2 digits or empty
	Birthdate                   string `xml:"Birthdate"`                   // YYYYMMDD
	// LimitApplicationCertificateRelatedConsFlg (OQSCD001): "1" when the
	// patient agreed to share 限度額 information.
	LimitApplicationCertificateRelatedConsFlg string `xml:"LimitApplicationCertificateRelatedConsFlg"`
	// ArbitraryIdentifier (任意の識別子): a per-row key, echoed.
	ArbitraryIdentifier string    `xml:"ArbitraryIdentifier,omitempty"`
	Extra               []Element `xml:",any"`
}

// ConfirmRequest is 資格確認要求 (OQS-IF-001), a file OQSsiquc01req_*.xml.
type ConfirmRequest struct {
	XMLName xml.Name           `xml:"XmlMsg"`
	Header  RequestHeader      `xml:"MessageHeader"`
	Body    ConfirmRequestBody `xml:"MessageBody"`
	Extra   []Element          `xml:",any"`
	Source  Source             `xml:"-"`
}

// ConfirmRequestBody is the request's MessageBody.
type ConfirmRequestBody struct {
	XMLName    xml.Name   `xml:"MessageBody"` // set when the element was present
	SearchInfo SearchInfo `xml:"QualificationConfirmSearchInfo"`
	Extra      []Element  `xml:",any"`
}

// ResultHeader is the MessageHeader of a result (docs/oqs.md §2.2).
type ResultHeader struct {
	XMLName                       xml.Name `xml:"MessageHeader"`                 // set when the element was present
	ProcessExecutionTime          string   `xml:"ProcessExecutionTime"`          // YYYYMMDDHHmmss
	QualificationConfirmationDate string   `xml:"QualificationConfirmationDate"` // YYYYMMDD
	MedicalInstitutionCode        string   `xml:"MedicalInstitutionCode"`
	ArbitraryFileIdentifier       string   `xml:"ArbitraryFileIdentifier"`
	ReferenceClassification       string   `xml:"ReferenceClassification"` // OQSCD002
	SegmentOfResult               string   `xml:"SegmentOfResult"`         // OQSCD003
	ErrorCode                     string   `xml:"ErrorCode"`
	ErrorMessage                  string   `xml:"ErrorMessage"`
	CharacterCodeIdentifier       string   `xml:"CharacterCodeIdentifier"` // OQSCD005
	// ReceptionNumber (受付番号) belongs to bulk results; read wherever it is.
	ReceptionNumber string    `xml:"ReceptionNumber"`
	Extra           []Element `xml:",any"`
}

// ConfirmResult is 資格確認結果 (OQS-IF-002): the answer in res to a
// ConfirmRequest, and the unsolicited file in face after a card is
// presented at the face-recognition reader.
type ConfirmResult struct {
	XMLName xml.Name     `xml:"XmlMsg"`
	Header  ResultHeader `xml:"MessageHeader"`
	Body    ResultBody   `xml:"MessageBody"`
	Extra   []Element    `xml:",any"`
	Source  Source       `xml:"-"`
}

// ResultBody is the result's MessageBody (docs/oqs.md §2.3).
type ResultBody struct {
	XMLName                 xml.Name `xml:"MessageBody"`            // set when the element was present
	ProcessingResultStatus  string   `xml:"ProcessingResultStatus"` // OQSCD004
	ProcessingResultCode    string   `xml:"ProcessingResultCode"`   // 別紙6-1, values unknown
	ProcessingResultMessage string   `xml:"ProcessingResultMessage"`
	QualificationValidity   string   `xml:"QualificationValidity"` // OQSCD006
	// SearchInfo echoes the request (insurance-card queries only).
	SearchInfo *SearchInfo `xml:"QualificationConfirmSearchInfo"`
	ResultList ResultList  `xml:"ResultList"`
	// Direct holds ResultOfQualificationConfirmation elements found
	// directly in MessageBody, outside a ResultList.
	Direct []Qualification `xml:"ResultOfQualificationConfirmation"`
	// PrescriptionIssueSelect (処方箋発行形態) is placed here by some sources
	// and inside each Qualification by another; both are read.
	PrescriptionIssueSelect string    `xml:"PrescriptionIssueSelect"`
	ReceptionNumber         string    `xml:"ReceptionNumber"`
	Extra                   []Element `xml:",any"`
}

// ResultList is 資格確認結果リスト. Repeated ResultList elements add up.
type ResultList struct {
	Results []Qualification `xml:"ResultOfQualificationConfirmation"`
	Extra   []Element       `xml:",any"`
}

// Qualifications returns every ResultOfQualificationConfirmation, wherever
// it was.
func (r *ConfirmResult) Qualifications() []Qualification {
	return append(append([]Qualification(nil), r.Body.ResultList.Results...), r.Body.Direct...)
}

// Qualification is one ResultOfQualificationConfirmation (docs/oqs.md §2.4).
type Qualification struct {
	InsuredCardClassification                  string                       `xml:"InsuredCardClassification"` // OQSCD010
	InsurerNumber                              string                       `xml:"InsurerNumber"`
	InsuredCardSymbol                          string                       `xml:"InsuredCardSymbol"`
	InsuredIdentificationNumber                string                       `xml:"InsuredIdentificationNumber"`
	InsuredBranchNumber                        string                       `xml:"InsuredBranchNumber"`
	PersonalFamilyClassification               string                       `xml:"PersonalFamilyClassification"` // OQSCD009
	InsuredName                                string                       `xml:"InsuredName"`                  // 被保険者氏名（世帯主氏名）
	Name                                       string                       `xml:"Name"`
	NameOfOther                                string                       `xml:"NameOfOther"`
	NameKana                                   string                       `xml:"NameKana"` // half-width katakana
	NameOfOtherKana                            string                       `xml:"NameOfOtherKana"`
	Sex1                                       string                       `xml:"Sex1"` // OQSCD007, as on the card
	Sex2                                       string                       `xml:"Sex2"`
	Birthdate                                  string                       `xml:"Birthdate"`
	Address                                    string                       `xml:"Address"`
	PostNumber                                 string                       `xml:"PostNumber"`
	QualificationDate                          string                       `xml:"QualificationDate"`
	DisqualificationDate                       string                       `xml:"DisqualificationDate"`
	InsuredCertificateIssuanceDate             string                       `xml:"InsuredCertificateIssuanceDate"`
	InsuredCardValidDate                       string                       `xml:"InsuredCardValidDate"`
	InsuredCardExpirationDate                  string                       `xml:"InsuredCardExpirationDate"`
	InsuredPartialContributionRatio            string                       `xml:"InsuredPartialContributionRatio"` // 3-digit percent
	PreschoolClassification                    string                       `xml:"PreschoolClassification"`
	ReasonOfLoss                               string                       `xml:"ReasonOfLoss"`
	InsurerName                                string                       `xml:"InsurerName"`
	ElderlyRecipientCertificateInfo            *ElderlyRecipientCertificate `xml:"ElderlyRecipientCertificateInfo"`
	LimitApplicationCertificateRelatedConsFlg  string                       `xml:"LimitApplicationCertificateRelatedConsFlg"`
	LimitApplicationCertificateRelatedConsTime string                       `xml:"LimitApplicationCertificateRelatedConsTime"`
	LimitApplicationCertificateRelatedInfo     *LimitApplicationCertificate `xml:"LimitApplicationCertificateRelatedInfo"`
	SpecificDiseasesCertificateRelatedConsFlg  string                       `xml:"SpecificDiseasesCertificateRelatedConsFlg"`
	SpecificDiseasesCertificateRelatedConsTime string                       `xml:"SpecificDiseasesCertificateRelatedConsTime"`
	// SpecificDiseasesCertificateList accepts both nestings seen in the
	// sources: List/Info/fields and repeated Lists holding the fields.
	SpecificDiseasesCertificateList SpecificDiseasesList `xml:"SpecificDiseasesCertificateList"`
	PublicExpenseResultList         *PublicExpenseList   `xml:"PublicExpenseResultList"`

	SpecificHealthCheckupsInfoConsFlg       string `xml:"SpecificHealthCheckupsInfoConsFlg"`
	SpecificHealthCheckupsInfoConsTime      string `xml:"SpecificHealthCheckupsInfoConsTime"`
	SpecificHealthCheckupsInfoAvailableTime string `xml:"SpecificHealthCheckupsInfoAvailableTime"`
	PharmacistsInfoConsFlg                  string `xml:"PharmacistsInfoConsFlg"`
	PharmacistsInfoConsTime                 string `xml:"PharmacistsInfoConsTime"`
	PharmacistsInfoAvailableTime            string `xml:"PharmacistsInfoAvailableTime"`
	DiagnosisInfoConsFlg                    string `xml:"DiagnosisInfoConsFlg"`
	DiagnosisInfoConsTime                   string `xml:"DiagnosisInfoConsTime"`
	DiagnosisInfoAvailableTime              string `xml:"DiagnosisInfoAvailableTime"`
	OperationInfoConsFlg                    string `xml:"OperationInfoConsFlg"`
	OperationInfoConsTime                   string `xml:"OperationInfoConsTime"`
	OperationInfoAvailableTime              string `xml:"OperationInfoAvailableTime"`

	// ReferenceNumber (照会番号) is present once the clinic registered one.
	ReferenceNumber string `xml:"ReferenceNumber"`
	// Elements only one source shows here.
	ArbitraryIdentifier                string `xml:"ArbitraryIdentifier"`
	QualificationConfirmationKey       string `xml:"QualificationConfirmationKey"`
	PublicExpenseNumber                string `xml:"PublicExpenseNumber"`
	BeneficiaryNumber                  string `xml:"BeneficiaryNumber"`
	WelfareOfficeName                  string `xml:"WelfareOfficeName"`
	LimitApplicationCertificateChanged string `xml:"LimitApplicationCertificateChanged"`
	PrescriptionIssueSelect            string `xml:"PrescriptionIssueSelect"`

	Extra []Element `xml:",any"`
}

// ElderlyRecipientCertificate is 高齢受給者証情報 (ages 70-74).
type ElderlyRecipientCertificate struct {
	ElderlyRecipientCertificateDate   string    `xml:"ElderlyRecipientCertificateDate"`
	ElderlyRecipientValidStartDate    string    `xml:"ElderlyRecipientValidStartDate"`
	ElderlyRecipientValidEndDate      string    `xml:"ElderlyRecipientValidEndDate"`
	ElderlyRecipientContributionRatio string    `xml:"ElderlyRecipientContributionRatio"` // 3-digit percent
	Extra                             []Element `xml:",any"`
}

// LimitApplicationCertificate is 限度額適用認定証関連情報.
type LimitApplicationCertificate struct {
	LimitApplicationCertificateClassification     string    `xml:"LimitApplicationCertificateClassification"`     // OQSCD011
	LimitApplicationCertificateClassificationFlag string    `xml:"LimitApplicationCertificateClassificationFlag"` // OQSCD012
	LimitApplicationCertificateDate               string    `xml:"LimitApplicationCertificateDate"`
	LimitApplicationCertificateValidStartDate     string    `xml:"LimitApplicationCertificateValidStartDate"`
	LimitApplicationCertificateValidEndDate       string    `xml:"LimitApplicationCertificateValidEndDate"`
	LimitApplicationCertificateLongTermDate       string    `xml:"LimitApplicationCertificateLongTermDate"`
	Extra                                         []Element `xml:",any"`
}

// SpecificDiseasesCertificate is one SpecificDiseasesCertificateInfo
// (特定疾病療養受療証).
type SpecificDiseasesCertificate struct {
	SpecificDiseasesDiseaseCategory string    `xml:"SpecificDiseasesDiseaseCategory"` // OQSCD013
	SpecificDiseasesCertificateDate string    `xml:"SpecificDiseasesCertificateDate"`
	SpecificDiseasesValidStartDate  string    `xml:"SpecificDiseasesValidStartDate"`
	SpecificDiseasesValidEndDate    string    `xml:"SpecificDiseasesValidEndDate"`
	SpecificDiseasesSelfPay         string    `xml:"SpecificDiseasesSelfPay"` // yen a month
	Extra                           []Element `xml:",any"`
}

func (c *SpecificDiseasesCertificate) empty() bool {
	return c.SpecificDiseasesDiseaseCategory == "" && c.SpecificDiseasesCertificateDate == "" &&
		c.SpecificDiseasesValidStartDate == "" && c.SpecificDiseasesValidEndDate == "" &&
		c.SpecificDiseasesSelfPay == "" && len(c.Extra) == 0
}

// SpecificDiseasesList holds the certificates of every
// SpecificDiseasesCertificateList element.
type SpecificDiseasesList struct {
	Certificates []SpecificDiseasesCertificate
}

// UnmarshalXML reads one SpecificDiseasesCertificateList in either nesting
// and adds its certificates to the list.
func (l *SpecificDiseasesList) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var v struct {
		Infos []SpecificDiseasesCertificate `xml:"SpecificDiseasesCertificateInfo"`
		SpecificDiseasesCertificate
	}
	if err := d.DecodeElement(&v, &start); err != nil {
		return err
	}
	l.Certificates = append(l.Certificates, v.Infos...)
	if !v.SpecificDiseasesCertificate.empty() {
		l.Certificates = append(l.Certificates, v.SpecificDiseasesCertificate)
	}
	return nil
}

// PublicExpenseList is PublicExpenseResultList (医療扶助資格確認結果リスト).
type PublicExpenseList struct {
	MedicalTickets []MedicalTicket `xml:"MedicalTicketInfo"`
	Extra          []Element       `xml:",any"`
}

// MedicalTicket is MedicalTicketInfo (医療券・調剤券情報, 医療扶助 only).
// The values' codes are not known from public sources.
type MedicalTicket struct {
	TicketType                               string    `xml:"TicketType"`
	MedicalTicketValidDate                   string    `xml:"MedicalTicketValidDate"`
	MedicalTicketExpirationDate              string    `xml:"MedicalTicketExpirationDate"`
	IssueNumber                              string    `xml:"IssueNumber"`
	MedicalTreatmentMonth                    string    `xml:"MedicalTreatmentMonth"`
	DesignatedMedicalInstitutionCode         string    `xml:"DesignatedMedicalInstitutionCode"`
	DesignatedMedicalInstitutionFlag         string    `xml:"DesignatedMedicalInstitutionFlag"`
	DesignatedMedicalInstitutionName         string    `xml:"DesignatedMedicalInstitutionName"`
	PrescriptionIssuerMedicalInstitutionCode string    `xml:"PrescriptionIssuerMedicalInstitutionCode"`
	PrescriptionIssuerMedicalInstitutionName string    `xml:"PrescriptionIssuerMedicalInstitutionName"`
	InjuryName1                              string    `xml:"InjuryName1"`
	InjuryName2                              string    `xml:"InjuryName2"`
	InjuryName3                              string    `xml:"InjuryName3"`
	MedicalTreatmentType                     string    `xml:"MedicalTreatmentType"`
	SelfPayAmount                            string    `xml:"SelfPayAmount"`
	DistrictContactName                      string    `xml:"DistrictContactName"`
	HandlingContactName                      string    `xml:"HandlingContactName"`
	SingleOrCombinedUse                      string    `xml:"SingleOrCombinedUse"`
	StatusOfSocialInsurance                  string    `xml:"StatusOfSocialInsurance"`
	ConsistencyFlag                          string    `xml:"ConsistencyFlag"`
	StatusOfInfecton                         string    `xml:"StatusOfInfecton"` // sic: spelled so by the interface
	StatusOfElderlyMedicalCare               string    `xml:"StatusOfElderlyMedicalCare"`
	StatusOfPrefecturalExpenses              string    `xml:"StatusOfPrefecturalExpenses"`
	Remarks1                                 string    `xml:"Remarks1"`
	Remarks2                                 string    `xml:"Remarks2"`
	Remarks3                                 string    `xml:"Remarks3"`
	Extra                                    []Element `xml:",any"`
}

// RegistrationInfo is ReferenceNumberRegistrationInfo: the patient's
// insurance-card data and the 照会番号 the clinic binds to it.
type RegistrationInfo struct {
	ReferenceNumber             string    `xml:"ReferenceNumber"` // ≤50 characters, e.g. the chart number
	InsurerNumber               string    `xml:"InsurerNumber"`
	InsuredCardSymbol           string    `xml:"InsuredCardSymbol,omitempty"`
	InsuredIdentificationNumber string    `xml:"InsuredIdentificationNumber"`
	InsuredBranchNumber         string    `xml:"InsuredBranchNumber,omitempty"`
	Extra                       []Element `xml:",any"`
}

// RegistrationRequest is 照会番号登録要求 (OQS-IF-003), OQSsiimm01req_*.xml.
type RegistrationRequest struct {
	XMLName xml.Name                `xml:"XmlMsg"`
	Header  RequestHeader           `xml:"MessageHeader"`
	Body    RegistrationRequestBody `xml:"MessageBody"`
	Extra   []Element               `xml:",any"`
	Source  Source                  `xml:"-"`
}

// RegistrationRequestBody is the registration request's MessageBody.
type RegistrationRequestBody struct {
	XMLName xml.Name         `xml:"MessageBody"` // set when the element was present
	Info    RegistrationInfo `xml:"ReferenceNumberRegistrationInfo"`
	Extra   []Element        `xml:",any"`
}

// RegistrationResult is 照会番号登録結果 (OQS-IF-004), OQSsiimm01res_*.xml.
type RegistrationResult struct {
	XMLName xml.Name               `xml:"XmlMsg"`
	Header  ResultHeader           `xml:"MessageHeader"`
	Body    RegistrationResultBody `xml:"MessageBody"`
	Extra   []Element              `xml:",any"`
	Source  Source                 `xml:"-"`
}

// RegistrationResultBody is the registration result's MessageBody: an echo
// of the registration and the processing status.
type RegistrationResultBody struct {
	XMLName                 xml.Name          `xml:"MessageBody"` // set when the element was present
	Info                    *RegistrationInfo `xml:"ReferenceNumberRegistrationInfo"`
	ProcessingResultStatus  string            `xml:"ProcessingResultStatus"`
	ProcessingResultCode    string            `xml:"ProcessingResultCode"`
	ProcessingResultMessage string            `xml:"ProcessingResultMessage"`
	Extra                   []Element         `xml:",any"`
}

// PadInsurer right-aligns an insurer number in 8 characters with leading
// spaces, as the terminal's files carry 6-digit (国保) numbers.
func PadInsurer(n string) string {
	n = strings.TrimSpace(n)
	if len(n) >= 8 {
		return n
	}
	return strings.Repeat(" ", 8-len(n)) + n
}

// TrimInsurer is the insurer number without its padding, for comparing.
// Spaces of either width are removed.
func TrimInsurer(n string) string {
	return strings.Trim(n, " \u3000\t")
}
