package bridge

import "github.com/mynakit/mynakit"

// Action is what a caller asked the bridge to do, as the access log, the
// operation JSON and the OpenAPI document (the operation's action enum)
// name it.
type Action string

// The operations a caller can start (operationActions).
const (
	ActionStatus       Action = "status"
	ActionRead         Action = "read"
	ActionPhoto        Action = "photo"
	ActionQR           Action = "qr"
	ActionCertificate  Action = "certificate"
	ActionAuthenticate Action = "authenticate"
	ActionSign         Action = "sign"
	ActionPair         Action = "pair"
)

// The clinic mode's actions: access-log entries, never operations.
const (
	// ActionOQSFace: a face result was handed to a principal.
	ActionOQSFace Action = "oqs-face"
	// ActionOQSConfirm: the terminal was asked about an insurance card.
	ActionOQSConfirm Action = "oqs-confirm"
	// ActionOQSFaceFolder: the terminal's face folder cannot be read (the
	// bridge itself noticed; no principal asked).
	ActionOQSFaceFolder Action = "oqs-face-folder"
)

// ActionRevealMyNumber: the person at the counter chose to see the whole
// My Number (an access-log entry with the stated purpose, never the
// number; not an operation).
const ActionRevealMyNumber Action = "reveal-my-number"

// operationActions are the actions of operations, in the order of the
// OpenAPI document's enum.
var operationActions = []Action{ActionStatus, ActionRead, ActionPhoto, ActionQR, ActionCertificate, ActionAuthenticate, ActionSign, ActionPair}

// Data names data the bridge reads, uses or hands out, as the access log
// records it and the consent page describes it (describeData).
type Data string

const (
	DataText            Data = Data(mynakit.PartText)
	DataSurface         Data = Data(mynakit.PartSurface)
	DataCommon          Data = Data(mynakit.PartCommon)
	DataJPKI            Data = Data(mynakit.PartJPKI)
	DataPhoto           Data = "photo"
	DataAgeRecord       Data = "age-record"
	DataAuthKey         Data = "auth-key"
	DataAuthCertificate Data = "auth-certificate"
	DataSignKey         Data = "sign-key"
	DataSignCertificate Data = "sign-certificate"
	DataPINStatus       Data = "pin-status"
	DataEligibility     Data = "eligibility"
	DataMyNumber        Data = "my-number"
)

// dataWords puts each Data in words, Japanese then English, for the
// consent page. Every Data constant has an entry (TestEveryDataIsDescribed).
var dataWords = map[Data]string{
	DataText:            "券面事項入力補助AP: 個人番号・氏名・住所・生年月日・性別 the My Number, name, address, birth date and sex",
	DataSurface:         "券面事項確認AP: 券面の画像・生年月日・性別・有効期限 the card face's images, birth date, sex and expiry",
	DataCommon:          "共通AP: カードの製造番号・有効期限 the card's serial number and expiry (unsigned)",
	DataJPKI:            "利用者証明用電子証明書 the user-authentication certificate",
	DataPhoto:           "顔写真 the photo",
	DataAgeRecord:       "年齢確認の記録 the age-verification record",
	DataAuthKey:         "利用者証明用の鍵（暗証番号） the user-authentication key (PIN)",
	DataAuthCertificate: "利用者証明用電子証明書 the user-authentication certificate",
	DataSignKey:         "署名用の鍵（署名用パスワード） the signing key (signing password)",
	DataSignCertificate: "署名用電子証明書（氏名・住所・生年月日・性別を含む） the signing certificate, which holds the name, address, birth date and sex",
	DataPINStatus:       "暗証番号の残り回数 the tries left on each PIN",
	DataMyNumber:        "個人番号（全桁） the whole My Number",
	DataEligibility:     "資格確認の結果: 患者の氏名・生年月日・住所・保険者番号 the eligibility results: each patient's name, birth date, address and insurance numbers",
}

// dataOfPart is the Data a part of a read is logged as.
func dataOfPart(p mynakit.Part) (Data, bool) {
	switch p {
	case mynakit.PartText:
		return DataText, true
	case mynakit.PartSurface:
		return DataSurface, true
	case mynakit.PartCommon:
		return DataCommon, true
	case mynakit.PartJPKI:
		return DataJPKI, true
	}
	return "", false
}

// dataOfCertificate is the Data a certificate of kind is logged as.
func dataOfCertificate(kind mynakit.CertKind) Data {
	if kind == mynakit.CertSign {
		return DataSignCertificate
	}
	return DataAuthCertificate
}

// describeData puts data in words for the consent page. A Data without
// words is a bug (TestEveryDataIsDescribed); it is shown by its name,
// marked as undescribed, never silently.
func describeData(data []Data) []string {
	var out []string
	for _, d := range data {
		if w, ok := dataWords[d]; ok {
			out = append(out, w)
		} else {
			out = append(out, "（説明のないデータ undescribed data）"+string(d))
		}
	}
	return out
}

// dataNames are data as the access log records them.
func dataNames(data []Data) []string {
	out := make([]string, 0, len(data))
	for _, d := range data {
		out = append(out, string(d))
	}
	return out
}

// signData is what a signature uses.
var signData = []Data{DataSignKey, DataSignCertificate}
