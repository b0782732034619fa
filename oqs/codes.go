package oqs

import "strings"

// Code is one value of a code table with its label in Japanese and English.
type Code struct {
	Value    string `json:"code"`
	Japanese string `json:"ja"`
	English  string `json:"en"`
	// Evidence is set when this value rests on weaker evidence than its
	// table (see CodeSet.Evidence).
	Evidence string `json:"evidence,omitempty"`
}

// CodeSet is one code table of the interface. Evidence carries the tag of
// docs/oqs.md (which explains the tags and names the
// public sources): [multi] two or more independent sources agree;
// [single: X] one source; [conflict] sources disagree; [derived] inferred.
type CodeSet struct {
	ID       string // OQSCDnnn where the sources give one, else ""
	Element  string // the element whose values these are
	Japanese string // the item's Japanese name
	Evidence string
	Codes    []Code
}

// codeSets is read only; CodeSets hands out copies.
var codeSets = []CodeSet{
	{"OQSCD001", "LimitApplicationCertificateRelatedConsFlg", "限度額適用認定証提供同意フラグ", "[multi]", []Code{
		{"0", "未同意", "not consented", ""}, {"1", "同意", "consented", ""}}},
	{"OQSCD002", "ReferenceClassification", "照会区分", "[multi]", []Code{
		{"1", "マイナンバーカード", "My Number Card", ""}, {"2", "被保険者証情報", "insurance-card data", ""}}},
	{"OQSCD003", "SegmentOfResult", "処理結果区分", "[conflict] 9 for 異常終了 in most sources, 3 in one; both read, 9 written", []Code{
		{"1", "正常終了", "completed", ""}, {"2", "処理中", "still processing", ""},
		{"9", "異常終了", "failed", ""}, {"3", "異常終了", "failed", "[single: RW]"}}},
	{"OQSCD004", "ProcessingResultStatus", "処理結果状況", "[multi]", []Code{
		{"1", "正常終了", "completed", ""}, {"2", "エラー", "error", ""}}},
	{"OQSCD005", "CharacterCodeIdentifier", "文字コード識別", "[multi]", []Code{
		{"0", "UTF-8", "UTF-8", ""}, {"1", "Shift_JIS", "Shift_JIS", ""}}},
	{"OQSCD006", "QualificationValidity", "資格有効性", "[multi] for 1-5", []Code{
		{"1", "有効", "valid", ""}, {"2", "無効", "invalid", ""},
		{"3", "無効（新しい資格あり）", "invalid, a newer qualification exists", ""},
		{"4", "該当資格なし", "no such qualification", ""},
		{"5", "複数該当", "several qualifications match", ""},
		{"6", "有効（未登録）", "valid, not registered (medical assistance)", "[single: RW]"}}},
	{"OQSCD007", "Sex1", "性別", "[multi]", []Code{
		{"1", "男", "male", ""}, {"2", "女", "female", ""}, {"3", "未設定", "not set", ""}}},
	{"OQSCD009", "PersonalFamilyClassification", "本人・家族の別", "[multi]", []Code{
		{"1", "本人", "insured person", ""}, {"2", "家族", "dependant", ""}}},
	{"OQSCD010", "InsuredCardClassification", "被保険者証区分", "[single: MCT] for 01-07 (RW agrees on 02, 03, 04, 06)", []Code{
		{"01", "被保険者証（一般）", "insurance card (general)", ""},
		{"02", "被保険者証（退職）", "insurance card (retiree)", ""},
		{"03", "短期被保険者証（一般）", "short-term insurance card (general)", ""},
		{"04", "短期被保険者証（退職）", "short-term insurance card (retiree)", ""},
		{"05", "被保険者資格証明書", "certificate of insured status", ""},
		{"06", "特例退職被保険者証", "special retiree insurance card", ""},
		{"07", "自衛官診療証", "Self-Defense Forces medical card", ""},
		{"A1", "医療扶助", "medical assistance", "[single: RW]"}}},
	{"OQSCD011", "LimitApplicationCertificateClassification", "限度額適用認定証の区分", "[single: MCT]", []Code{
		{"01", "限度額適用認定証", "limit certificate", ""},
		{"02", "限度額適用・標準負担額減額認定証", "limit and meal-charge reduction certificate", ""},
		{"03", "標準負担額減額認定証", "meal-charge reduction certificate", ""}}},
	{"OQSCD012", "LimitApplicationCertificateClassificationFlag", "適用区分", "[multi] for B01-B10 (MCT, RW); [single: MCT] for A01-A06", []Code{
		{"A01", "ア", "category a", "[single: MCT]"}, {"A02", "イ", "category i", "[single: MCT]"},
		{"A03", "ウ", "category u", "[single: MCT]"}, {"A04", "エ", "category e", "[single: MCT]"},
		{"A05", "オ", "category o", "[single: MCT]"}, {"A06", "オ（境）", "category o (boundary case)", "[single: MCT]"},
		{"B01", "現役並みⅢ", "working-age income III", ""}, {"B02", "現役並みⅡ", "working-age income II", ""},
		{"B03", "現役並みⅠ", "working-age income I", ""}, {"B04", "一般", "general", ""},
		{"B05", "低所得Ⅱ", "low income II", ""}, {"B06", "低所得Ⅰ", "low income I", ""},
		{"B07", "低所得Ⅰ（老福）", "low income I (old-age welfare pension)", ""},
		{"B08", "低所得Ⅰ（境）", "low income I (boundary case)", ""},
		{"B09", "一般Ⅱ", "general II", ""}, {"B10", "一般Ⅰ", "general I", ""}}},
	{"OQSCD013", "SpecificDiseasesDiseaseCategory", "認定疾病区分", "[single: MCT]; width (1 or 2 digits) unverified, both read", []Code{
		{"1", "人工透析を必要とする慢性腎不全", "chronic renal failure requiring dialysis", ""},
		{"2", "先天性血液凝固因子障害（第VIII・第IX因子）", "congenital clotting factor VIII or IX deficiency", ""},
		{"3", "血液凝固因子製剤の投与に起因するHIV感染症", "HIV infection from clotting factor products", ""}}},
	{"", "ReasonOfLoss", "資格喪失事由", "[multi]", []Code{
		{"01", "死亡", "death", ""}, {"02", "生活保護受給開始", "public assistance began", ""},
		{"03", "医療保険等の資格取得", "joined other insurance", ""}, {"99", "その他", "other", ""}}},
	{"", "SpecificDiseasesCertificateRelatedConsFlg", "特定疾病療養受療証提供同意フラグ", "[single: MCT]", []Code{
		{"0", "同意なし", "not consented", ""}, {"1", "同意あり", "consented", ""},
		{"2", "同意有効期限切れ", "consent expired", ""}}},
	{"", "PrescriptionIssueSelect", "処方箋発行形態", "[single: MCT]", []Code{
		{"1", "電子処方箋", "electronic prescription", ""}, {"2", "紙の処方箋", "paper prescription", ""}}},
	{"", "PreschoolClassification", "未就学区分", "[conflict] MCT knows only 1; RW adds 2", []Code{
		{"1", "未就学", "preschool child", ""}, {"2", "就学中", "school age", "[single: RW]"}}},
	{"", "MedicalTreatmentFlag", "診療区分", "[single: OD2]; 1 as ordinary [derived]", []Code{
		{"1", "通常", "ordinary", "[derived]"}, {"2", "訪問診療", "home visit", ""}, {"3", "オンライン診療", "online consultation", ""}}},
	{"", "InfoConsFlg", "閲覧同意フラグ（特定健診・薬剤・診療・手術情報）", "[multi] for the elements; meaning of the values [derived]", []Code{
		{"0", "同意なし", "not consented", ""}, {"1", "同意あり", "consented", ""}}},
}

// aliases send elements that share a table to it.
var codeAliases = map[string]string{
	"Sex2":                              "Sex1",
	"SpecificHealthCheckupsInfoConsFlg": "InfoConsFlg",
	"PharmacistsInfoConsFlg":            "InfoConsFlg",
	"DiagnosisInfoConsFlg":              "InfoConsFlg",
	"OperationInfoConsFlg":              "InfoConsFlg",
}

// CodeSets returns every code table, as copies.
func CodeSets() []CodeSet {
	out := make([]CodeSet, len(codeSets))
	for i, s := range codeSets {
		s.Codes = append([]Code(nil), s.Codes...)
		out[i] = s
	}
	return out
}

// LookupCode labels value as a value of element. ok is false for a value
// no source lists (the Code then carries the value and "unknown" labels).
// Surrounding spaces are ignored, and a one-digit 認定疾病区分 is also found
// written with a leading zero.
func LookupCode(element, value string) (c Code, ok bool) {
	v := strings.TrimSpace(value)
	if a, ok := codeAliases[element]; ok {
		element = a
	}
	for _, s := range codeSets {
		if s.Element != element {
			continue
		}
		for _, c := range s.Codes {
			if c.Value == v {
				return c, true
			}
		}
		if element == "SpecificDiseasesDiseaseCategory" && len(v) == 2 && v[0] == '0' {
			return LookupCode(element, v[1:])
		}
	}
	return Code{Value: v, Japanese: "不明", English: "unknown"}, false
}
