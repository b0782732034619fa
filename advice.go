package mynakit

import (
	"errors"
	"fmt"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/pin"
)

// Advice says what a person at a counter should do next about err, in
// Japanese with English beside it — no reader, no card, card pulled, key
// blocked, wrong PIN with the tries left — or "" when there is nothing to
// add. It never repeats a secret (errors never hold one, see package pin).
func Advice(err error) string {
	var wrong *pin.WrongSecretError
	var wb *pin.WouldBlockError
	hint := ""
	switch {
	case errors.As(err, &wrong) && wrong.Remaining == 0:
		hint = "暗証番号がロックされました。市区町村の窓口で解除してください / the key is now blocked: only the municipality can unblock it"
	case errors.As(err, &wrong):
		hint = fmt.Sprintf("暗証番号が違います。残り%d回 / wrong PIN: %d tries left; check it and try again", wrong.Remaining, wrong.Remaining)
	case errors.As(err, &wb):
		hint = "残り1回です。確かなときだけ --allow-last-try で続けてください / one try left: go ahead with --allow-last-try only if you are sure of the value"
	case errors.Is(err, pin.ErrKeyBlocked):
		hint = "暗証番号がロックされています。市区町村の窓口で解除してください / the key is blocked: only the municipality can unblock it"
	case errors.Is(err, apdu.ErrCardRemoved):
		hint = "カードが抜かれました。カードを置き直して、もう一度読み取ってください / the card was pulled: put it back and read again"
	case errors.Is(err, apdu.ErrCardReset):
		hint = "他のアプリがカードをリセットしました。もう一度読み取ってください / another application reset the card: read again"
	case errors.Is(err, ErrNoReader):
		hint = "カードリーダーが見つかりません。接続と pcscd を確認してください / no card reader: plug one in and check that pcscd runs (or try --simulator)"
	case errors.Is(err, ErrNoCard):
		hint = "カードを置いてください（--wait で待ちます）/ put a card on the reader, or add --wait"
	case errors.Is(err, ErrReaderNotFound):
		hint = "mynakit readers でリーダー名を確認してください / see 'mynakit readers' for the names"
	case errors.Is(err, apdu.ErrUnavailable):
		hint = "この mynakit は PC/SC なしでビルドされています / this build has no PC/SC (built without cgo); use --simulator"
	}
	return hint
}
