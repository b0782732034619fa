package bridge

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// maxQuery bounds a query string.
const maxQuery = 256

// parseQuery reads a query string that may hold only the named
// parameters, each at most once.
func parseQuery(raw string, allowed ...string) (map[string]string, error) {
	if len(raw) > maxQuery {
		return nil, errors.New("query too long")
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errors.New("query is not valid")
	}
	out := map[string]string{}
	for k, vals := range v {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return nil, fmt.Errorf("unknown parameter %q", k)
		}
		if len(vals) != 1 {
			return nil, fmt.Errorf("parameter %q given %d times", k, len(vals))
		}
		out[k] = vals[0]
	}
	return out, nil
}

func boolParam(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

// describeData puts the log's data names in words for the consent page.
func describeData(data []string) []string {
	words := map[string]string{
		"text":             "券面事項入力補助AP: 個人番号・氏名・住所・生年月日・性別 the My Number, name, address, birth date and sex",
		"surface":          "券面事項確認AP: 券面の画像・生年月日・性別・有効期限 the card face's images, birth date, sex and expiry",
		"common":           "共通AP: カードの製造番号・有効期限 the card's serial number and expiry (unsigned)",
		"jpki":             "利用者証明用電子証明書 the user-authentication certificate",
		"photo":            "顔写真 the photo",
		"age-record":       "年齢確認の記録 the age-verification record",
		"auth-key":         "利用者証明用の鍵（暗証番号） the user-authentication key (PIN)",
		"auth-certificate": "利用者証明用電子証明書 the user-authentication certificate",
		"sign-key":         "署名用の鍵（署名用パスワード） the signing key (signing password)",
		"sign-certificate": "署名用電子証明書（氏名・住所・生年月日・性別を含む） the signing certificate, which holds the name, address, birth date and sex",
		"pin-status":       "暗証番号の残り回数 the tries left on each PIN",
	}
	var out []string
	for _, d := range data {
		if w, ok := words[d]; ok {
			out = append(out, w)
		} else {
			out = append(out, d)
		}
	}
	return out
}
