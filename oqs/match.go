package oqs

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// CardFacts is what a verified card read says about its holder, as a
// counter has it: the name from the card (基本4情報), a kana reading if the
// clinic has one, and the birth date as YYYY-MM-DD.
type CardFacts struct {
	Name      string `json:"name"`
	Kana      string `json:"kana,omitempty"`
	BirthDate string `json:"birth_date"`
}

// Disagreement is one way a face result does not fit the card read at the
// counter. Candidate is the index of the ResultOfQualificationConfirmation
// compared, or -1 for the result as a whole.
type Disagreement struct {
	Candidate int    `json:"candidate"`
	Field     string `json:"field"` // name, kana, birth_date, candidates, result
	Card      string `json:"card,omitempty"`
	Result    string `json:"result,omitempty"`
	Detail    string `json:"detail"`
}

// Match compares the card's holder with every candidate of a face result,
// after normalizing names (character width, spaces, hiragana to katakana).
// It returns every disagreement and nothing when the one candidate fits.
// With several candidates it reports that too and never picks one: a person
// chooses.
func Match(card CardFacts, face FaceResult) []Disagreement {
	if face.Message == nil {
		detail := "結果を読めません the face result could not be read"
		if face.Err != nil {
			detail += ": " + face.Err.Error()
		}
		return []Disagreement{{Candidate: -1, Field: "result", Detail: detail}}
	}
	qs := face.Message.Qualifications()
	var out []Disagreement
	switch len(qs) {
	case 0:
		return []Disagreement{{Candidate: -1, Field: "candidates", Result: "0", Detail: "資格情報がありません the result holds no qualification"}}
	case 1:
	default:
		out = append(out, Disagreement{Candidate: -1, Field: "candidates", Result: fmt.Sprint(len(qs)),
			Detail: fmt.Sprintf("候補が%d件あります: 自動では選びません %d candidates; a person must choose", len(qs), len(qs))})
	}
	for i := range qs {
		out = append(out, matchOne(i, card, &qs[i])...)
	}
	return out
}

func matchOne(i int, card CardFacts, q *Qualification) []Disagreement {
	var out []Disagreement
	cn := NormalizeName(card.Name)
	switch {
	case cn == "":
		out = append(out, Disagreement{Candidate: i, Field: "name", Result: q.Name, Detail: "カードの氏名がありません the card gave no name"})
	case cn != NormalizeName(q.Name) && (q.NameOfOther == "" || cn != NormalizeName(q.NameOfOther)):
		out = append(out, Disagreement{Candidate: i, Field: "name", Card: card.Name, Result: q.Name, Detail: "氏名が一致しません names differ"})
	}
	if card.Kana != "" {
		ck := NormalizeName(card.Kana)
		if ck != NormalizeName(q.NameKana) && (q.NameOfOtherKana == "" || ck != NormalizeName(q.NameOfOtherKana)) {
			out = append(out, Disagreement{Candidate: i, Field: "kana", Card: card.Kana, Result: q.NameKana, Detail: "カナ氏名が一致しません kana names differ"})
		}
	}
	cb, rb := digits(card.BirthDate), digits(q.Birthdate)
	switch {
	case cb == "":
		out = append(out, Disagreement{Candidate: i, Field: "birth_date", Result: isoDate(q.Birthdate), Detail: "カードの生年月日がありません the card gave no birth date"})
	case cb != rb:
		out = append(out, Disagreement{Candidate: i, Field: "birth_date", Card: card.BirthDate, Result: isoDate(q.Birthdate), Detail: "生年月日が一致しません birth dates differ"})
	}
	return out
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(s) {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NormalizeName folds the differences that do not make two names
// different: character width (NFKC turns half-width katakana and
// full-width Latin letters into their usual forms, joining ｶﾞ into ガ),
// spaces of any width, and hiragana against katakana. Kanji are left as
// they are: a variant form (異体字) is a disagreement for a person to judge.
func NormalizeName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(s) {
		switch {
		case unicode.IsSpace(r):
			continue
		case r >= 'ぁ' && r <= 'ゖ', r == 'ゝ', r == 'ゞ':
			r += 'ァ' - 'ぁ'
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
