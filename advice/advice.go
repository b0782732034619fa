// Package advice says what a person should do next about an error, in
// Japanese with English beside it: the reader service is not running, no
// reader, the reader was unplugged, no card, a card the tool does not know,
// a wrong or blocked PIN, a secret of the wrong form, a broken card image,
// a port already in use, a clinic terminal that does not answer.
//
// It is presentation for people, shared by the command line and the
// bridge; the errors themselves stay typed in the packages that raise them.
// Advice never repeats a secret: it is built from error types and counts,
// never from an error's text.
package advice

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/cardimage"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/oqs"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/webeid"
)

// For is the advice for err, or "" when there is nothing to add to the
// error's own message.
func For(err error) string {
	if err == nil {
		return ""
	}
	var (
		wrong   *pin.WrongSecretError
		wb      *pin.WouldBlockError
		invalid *pin.InvalidSecretError
		unknown *mynakit.UnknownCardError
		img     *cardimage.LoadError
		timeout *oqs.TimeoutError
	)
	switch {
	case errors.As(err, &wrong) && wrong.Remaining == 0:
		return "暗証番号がロックされました。市区町村の窓口で初期化してください / the key is now blocked: only the municipality's office can reset it"
	case errors.As(err, &wrong):
		return fmt.Sprintf("暗証番号が違います。残り%d回 / wrong secret: %d tries left; check it and try again", wrong.Remaining, wrong.Remaining)
	case errors.As(err, &wb):
		return "残り1回です。確かなときだけ --allow-last-try で続けてください / one try left: go ahead with --allow-last-try only if you are sure of the value"
	case errors.Is(err, pin.ErrKeyBlocked), errors.Is(err, apdu.ErrBlocked):
		return "暗証番号がロックされています。マイナンバーカードを持って市区町村の窓口で初期化してください / the key is blocked: the holder must take the card to the municipality's office to reset it"
	case errors.As(err, &invalid):
		ja, en := secretForm(invalid.Kind)
		return "入力の形式が違います（カードには送っていません）。" + ja + " / the value is not in the expected form (nothing was sent to the card): " + en
	case errors.Is(err, pin.ErrNoSecret):
		return "暗証番号を尋ねる端末がありません。端末から実行するか、--pin-stdin で標準入力から渡してください / there is no terminal to ask for the secret: run from a terminal, or pass it on standard input with --pin-stdin"
	case errors.Is(err, apdu.ErrNoService):
		return "スマートカードのサービスが動いていません。Linux: sudo systemctl start pcscd.socket、Windows: サービス「Smart Card」を開始してください / the smart-card service is not running: on Linux start pcscd (sudo systemctl start pcscd.socket), on Windows start the \"Smart Card\" service"
	case errors.Is(err, apdu.ErrCardRemoved):
		return "カードが抜かれました。カードを置き直して、もう一度読み取ってください / the card was pulled: put it back and read again"
	case errors.Is(err, apdu.ErrCardReset):
		return "他のアプリがカードをリセットしました。もう一度読み取ってください / another application reset the card: read again"
	case errors.Is(err, apdu.ErrReaderGone):
		return "カードリーダーが外れました。ケーブルを確認して、もう一度読み取ってください / the reader was disconnected: check its cable and read again"
	case errors.Is(err, mynakit.ErrNoReader):
		return "カードリーダーが見つかりません。接続を確認してください（--wait で接続を待ちます）/ no card reader: plug one in (add --wait to wait for it), or try --simulator"
	case errors.Is(err, mynakit.ErrNoCard):
		return "カードを置いてください（--wait で待ちます）/ put a card on the reader, or add --wait"
	case errors.Is(err, mynakit.ErrReaderNotFound):
		return "mynakit readers でリーダー名を確認してください / see 'mynakit readers' for the names"
	case errors.As(err, &unknown):
		return fmt.Sprintf("マイナンバーカードではないようです（ATR %s）。カードの向きと種類を確認してください / this does not look like a My Number Card (ATR %s): check the card and which way it faces", unknown.ATRHex(), unknown.ATRHex())
	case errors.Is(err, apdu.ErrUnavailable):
		return "この mynakit は PC/SC なしでビルドされています / this build has no PC/SC (built without cgo); use --simulator"
	case errors.As(err, &img) && errors.Is(img.Err, fs.ErrNotExist):
		return "カードイメージのファイルがありません: " + img.Path + " / no card image file at " + img.Path + ": check the path"
	case errors.As(err, &img):
		where := img.Path
		if img.Line > 0 {
			where = fmt.Sprintf("%s の %d 行 %d 桁 / line %d column %d of %s", img.Path, img.Line, img.Column, img.Line, img.Column, img.Path)
		}
		return "カードイメージを読めません: " + where + " / fix the card image there, or make a new one with 'mynakit sim image' or 'mynakit dump'"
	case errors.As(err, &timeout), errors.Is(err, oqs.ErrTimeout):
		return "資格確認端末から結果が届きません。端末が動いていること、共有フォルダに届くことを確認してください。oqs confirm をもう一度実行すると同じ依頼の結果を待ちます / no result from the eligibility terminal: check that it runs and that the shared folder is reachable; running oqs confirm again waits for the same request"
	case errors.Is(err, oqs.ErrFileTimeout), errors.Is(err, oqs.ErrNotRegular):
		return "共有フォルダのファイルを読めません（応答しない、または通常のファイルではない）。共有の接続を確認してください / a file on the shared folder does not answer or is not a regular file: check the share's connection"
	case errors.Is(err, syscall.EADDRINUSE):
		return "ポートが使用中です。別の mynakit serve が動いていないか確認するか、--listen で別のポートを指定してください / the port is in use: another mynakit serve may be running; stop it, or choose another port with --listen"
	case errors.Is(err, webeid.ErrNonce):
		return "サイトのチャレンジが短すぎます（256ビット以上が必要）/ the site's challenge must carry at least 256 bits, base64-encoded"
	case errors.Is(err, webeid.ErrOrigin):
		return "オリジンは https://ホスト[:ポート] の形で指定してください / give the origin as https://host[:port]"
	}
	return ""
}

// secretForm says what a secret of each kind looks like, in Japanese and
// in English.
func secretForm(k myna.Secret) (ja, en string) {
	switch k {
	case myna.ShortPIN:
		return "暗証番号は数字4桁です", "the PIN is 4 digits"
	case myna.SignPassword:
		return "署名用パスワードは英大文字と数字の6〜16文字です", "the signing password is 6 to 16 letters A–Z and digits"
	case myna.CodeA:
		return "照合番号Aは12桁の個人番号です", "照合番号A is the 12-digit My Number"
	case myna.CodeB:
		return "照合番号Bは生年月日6桁・有効期限の西暦4桁・セキュリティコード4桁の14桁です", "照合番号B is 14 digits: birth date (YYMMDD), the card's expiry year, the 4-digit security code"
	case myna.BirthKey:
		return "生年月日を和暦の年・月・日の6桁で入力してください", "the birth date as era year, month and day (6 digits)"
	}
	return "もう一度入力してください", "enter it again"
}

// Choices is the error text for a missing or wrong argument, listing its
// valid values: ja and en name what is asked ("証明書", "the certificate").
func Choices(ja, en string, values []string) string {
	list := strings.Join(values, ", ")
	return fmt.Sprintf("%sを指定してください（%s）/ give %s: one of %s", ja, list, en, list)
}
