// Package myna names the applications, files and keys of the Individual
// Number Card (docs/card.md §1-§3): the facts every other package of
// mynakit, reader and simulator alike, agrees on. It holds no logic beyond
// lookups.
package myna

import "fmt"

// Applet identifies one application on the card.
type Applet int

const (
	JPKI    Applet = iota + 1 // 公的個人認証AP
	Text                      // 券面事項入力補助AP
	Surface                   // 券面事項確認AP
	Common                    // 共通AP
	Juki                      // 住基AP
)

// AllApplets lists every applet of the physical card.
func AllApplets() []Applet { return []Applet{JPKI, Text, Surface, Common, Juki} }

var aids = map[Applet][]byte{
	JPKI:    {0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01},
	Text:    {0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08},
	Surface: {0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02},
	Common:  {0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x01, 0x00},
	Juki:    {0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x01},
}

// ISDAID is the GlobalPlatform issuer security domain; selecting it returns
// the card to its power-on state (docs/card.md §1.1).
func ISDAID() []byte { return []byte{0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00} }

// AID returns a copy of the applet's 10-byte DF name.
func (a Applet) AID() []byte { return append([]byte(nil), aids[a]...) }

// Name is the short English name used in JSON and flags.
func (a Applet) Name() string {
	switch a {
	case JPKI:
		return "jpki"
	case Text:
		return "text"
	case Surface:
		return "surface"
	case Common:
		return "common"
	case Juki:
		return "juki"
	}
	return fmt.Sprintf("applet(%d)", int(a))
}

// JapaneseName is the applet's official name.
func (a Applet) JapaneseName() string {
	switch a {
	case JPKI:
		return "公的個人認証AP"
	case Text:
		return "券面事項入力補助AP"
	case Surface:
		return "券面事項確認AP"
	case Common:
		return "共通AP"
	case Juki:
		return "住基AP"
	}
	return a.Name()
}

func (a Applet) String() string { return a.Name() }

// AppletByAID finds the applet with the given DF name.
func AppletByAID(aid []byte) (Applet, bool) {
	for a, v := range aids {
		if string(v) == string(aid) {
			return a, true
		}
	}
	return 0, false
}

// JPKI applet files (docs/card.md §2.1).
const (
	JPKISignCert    uint16 = 0x0001 // 署名用電子証明書, needs the signing password
	JPKISignCACert  uint16 = 0x0002
	JPKIToken       uint16 = 0x0006 // token label, 32 bytes + 128
	JPKICertPresent uint16 = 0x0008 // 8F 8F 00
	JPKIAuthCert    uint16 = 0x000A // 利用者証明用電子証明書, free on the card
	JPKIAuthCACert  uint16 = 0x000B
	JPKIAuthKey     uint16 = 0x0017
	JPKIAuthPIN     uint16 = 0x0018 // 4 digits, 3 tries
	JPKISignKey     uint16 = 0x001A
	JPKISignPIN     uint16 = 0x001B // 6-16 characters, 5 tries
)

// 券面事項入力補助AP files (docs/card.md §2.2).
const (
	TextMyNumber    uint16 = 0x0001 // FF 10 0C <12 digits> FF FF, exactly 17 bytes
	TextAttributes  uint16 = 0x0002 // 基本4情報
	TextIntegrity   uint16 = 0x0003 // digests and J-LIS signature
	TextCVCert      uint16 = 0x0004
	TextBasicInfo   uint16 = 0x0005
	TextSMKey       uint16 = 0x0006
	TextSignedKey   uint16 = 0x0007
	TextPIN         uint16 = 0x0011 // 4 digits, 3 tries
	TextBlockedKey  uint16 = 0x0012 // issued blocked
	TextCardKey     uint16 = 0x0013
	TextCodeA       uint16 = 0x0014 // 照合番号A (12 digits)
	TextCodeB       uint16 = 0x0015 // 照合番号B (14 digits)
	MyNumberEFBytes        = 17
)

// RevealsMyNumber reports whether the content of EF fid of applet a gives
// away the holder's My Number, so that no log may show it: the text
// applet's 個人番号 EF (the digits in ASCII) and integrity record (DF31 is
// the SHA-256 of that EF, and 10^11 candidates invert it in hours), and the
// card-face applet's My Number image.
func RevealsMyNumber(a Applet, fid uint16) bool {
	switch a {
	case Text:
		return fid == TextMyNumber || fid == TextIntegrity
	case Surface:
		return fid == SurfaceMyNumberImg
	}
	return false
}

// 券面事項確認AP files (docs/card.md §2.3).
const (
	SurfaceAgeRecord   uint16 = 0x0001
	SurfaceFace        uint16 = 0x0002
	SurfaceBasicInfo   uint16 = 0x0003
	SurfaceCVCert      uint16 = 0x0004
	SurfaceMyNumberImg uint16 = 0x0005
	SurfaceBirthKey    uint16 = 0x0011 // 生年月日 in era form YYMMDD
	SurfaceCodeB       uint16 = 0x0012
	SurfaceCodeA       uint16 = 0x0013
	SurfaceCardKey     uint16 = 0x001A
)

// 共通AP and 住基AP files (docs/card.md §2.4, §2.5).
const (
	CommonInfo    uint16 = 0x0001 // record EF: serial, municipality, expiry
	CommonKeyRef  uint16 = 0x0002
	CommonAuthKey uint16 = 0x0019 // INTERNAL AUTHENTICATE
	CommonPIN     uint16 = 0x001C
	JukiKeyRef    uint16 = 0x0002
	JukiPIN       uint16 = 0x001C
)

// Secret is the kind of secret a key EF holds; the user knows four.
type Secret int

const (
	ShortPIN     Secret = iota + 1 // 4-digit PIN (JPKI auth, text, common, juki)
	SignPassword                   // 署名用パスワード, 6-16 of A-Z 0-9
	CodeA                          // 照合番号A = the 12-digit My Number
	CodeB                          // 照合番号B, 14 digits
	BirthKey                       // 生年月日 YYMMDD (era year), derived from code B
)

func (s Secret) String() string {
	switch s {
	case ShortPIN:
		return "short PIN"
	case SignPassword:
		return "signing password"
	case CodeA:
		return "照合番号A"
	case CodeB:
		return "照合番号B"
	case BirthKey:
		return "birth-date key"
	}
	return fmt.Sprintf("secret(%d)", int(s))
}

// KeyName is a key EF's stable name, used in JSON, flags and reports.
type KeyName string

// The user key EFs of the card (docs/card.md §3.1).
const (
	KeyJPKIAuthPIN      KeyName = "jpki-auth-pin"      // 利用者証明用電子証明書の暗証番号
	KeyJPKISignPassword KeyName = "jpki-sign-password" // 署名用パスワード
	KeyTextPIN          KeyName = "text-pin"           // 券面事項入力補助用暗証番号
	KeyTextCodeA        KeyName = "text-code-a"        // 照合番号A in the text applet
	KeyTextCodeB        KeyName = "text-code-b"        // 照合番号B in the text applet
	KeySurfaceBirth     KeyName = "surface-birth"      // 生年月日 key of the card face
	KeySurfaceCodeA     KeyName = "surface-code-a"     // 照合番号A in the card face
	KeySurfaceCodeB     KeyName = "surface-code-b"     // 照合番号B in the card face
	KeyCommonPIN        KeyName = "common-pin"         // 共通AP PIN
	KeyJukiPIN          KeyName = "juki-pin"           // 住民基本台帳用暗証番号
)

// Key is one key EF: where it lives, what it holds and how many tries it
// allows.
type Key struct {
	Name   KeyName
	Applet Applet
	FID    uint16
	Secret Secret
	// Change is how the card changes it: 0x24 (CHANGE REFERENCE DATA) or
	// 0x32 (CHANGE KEY, CLA 80); 0 when the holder cannot change it.
	Change byte
	// MaxTries is the retry limit. The card does not report it; the
	// municipal rules give 3 for the 4-digit PINs and 5 for the signing
	// password (docs/card.md §3.1).
	MaxTries int
	// MaxAssumed is true when no source establishes MaxTries: 10 for
	// 照合番号A and the birth key (one source gives 10 for 照合番号B) and 3 for
	// the 共通AP PIN are assumptions; a larger count seen on a card wins.
	MaxAssumed bool
}

// AllKeys lists every user key EF of the card in the order reports show
// them (docs/card.md §3.1).
func AllKeys() []Key {
	return []Key{
		{Name: KeyJPKIAuthPIN, Applet: JPKI, FID: JPKIAuthPIN, Secret: ShortPIN, Change: 0x24, MaxTries: 3},
		{Name: KeyJPKISignPassword, Applet: JPKI, FID: JPKISignPIN, Secret: SignPassword, Change: 0x24, MaxTries: 5},
		{Name: KeyTextPIN, Applet: Text, FID: TextPIN, Secret: ShortPIN, Change: 0x24, MaxTries: 3},
		{Name: KeyTextCodeA, Applet: Text, FID: TextCodeA, Secret: CodeA, MaxTries: 10, MaxAssumed: true},
		{Name: KeyTextCodeB, Applet: Text, FID: TextCodeB, Secret: CodeB, MaxTries: 10},
		{Name: KeySurfaceBirth, Applet: Surface, FID: SurfaceBirthKey, Secret: BirthKey, MaxTries: 10, MaxAssumed: true},
		{Name: KeySurfaceCodeA, Applet: Surface, FID: SurfaceCodeA, Secret: CodeA, MaxTries: 10, MaxAssumed: true},
		{Name: KeySurfaceCodeB, Applet: Surface, FID: SurfaceCodeB, Secret: CodeB, MaxTries: 10},
		{Name: KeyCommonPIN, Applet: Common, FID: CommonPIN, Secret: ShortPIN, Change: 0x32, MaxTries: 3, MaxAssumed: true},
		{Name: KeyJukiPIN, Applet: Juki, FID: JukiPIN, Secret: ShortPIN, Change: 0x32, MaxTries: 3},
	}
}

// ShortPINKeys are the 4-digit PINs that `pin change short` keeps equal.
func ShortPINKeys() []KeyName {
	return []KeyName{KeyJPKIAuthPIN, KeyTextPIN, KeyCommonPIN, KeyJukiPIN}
}

// KeyByName finds a key by its stable name.
func KeyByName(name KeyName) (Key, bool) {
	for _, k := range AllKeys() {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// MustKey is KeyByName for the names this package defines; it panics on
// any other (a programming error, never card data).
func MustKey(name KeyName) Key {
	k, ok := KeyByName(name)
	if !ok {
		panic("myna: no key " + string(name))
	}
	return k
}

// KeyAt finds the key stored at fid in applet.
func KeyAt(a Applet, fid uint16) (Key, bool) {
	for _, k := range AllKeys() {
		if k.Applet == a && k.FID == fid {
			return k, true
		}
	}
	return Key{}, false
}

// Openers returns the key EFs that, once verified, allow reading EF fid of
// applet a, in the order a reader should prefer them (docs/card.md §3.5).
// An empty list means the file is free to read; ok is false for a file the
// table does not name.
func Openers(a Applet, fid uint16) (keys []uint16, ok bool) {
	switch a {
	case JPKI:
		switch fid {
		case JPKISignCert:
			return []uint16{JPKISignPIN}, true
		case JPKISignCACert, JPKIToken, JPKICertPresent, JPKIAuthCert, JPKIAuthCACert:
			return nil, true
		case JPKIAuthKey:
			return []uint16{JPKIAuthPIN}, true
		case JPKISignKey:
			return []uint16{JPKISignPIN}, true
		}
	case Text:
		switch fid {
		case TextMyNumber:
			return []uint16{TextPIN, TextCodeA}, true
		case TextAttributes:
			return []uint16{TextPIN, TextCodeB}, true
		case TextIntegrity, TextSMKey, TextSignedKey:
			return []uint16{TextPIN, TextCodeA, TextCodeB}, true
		case TextCVCert, TextBasicInfo:
			return nil, true
		}
	case Surface:
		switch fid {
		case SurfaceAgeRecord:
			return []uint16{SurfaceBirthKey}, true
		case SurfaceFace:
			return []uint16{SurfaceCodeA, SurfaceCodeB}, true
		case SurfaceMyNumberImg:
			return []uint16{SurfaceCodeA}, true
		case SurfaceBasicInfo, SurfaceCVCert:
			return nil, true
		}
	case Common:
		switch fid {
		case CommonInfo, CommonKeyRef:
			return nil, true
		}
	case Juki:
		if fid == JukiKeyRef {
			return nil, true
		}
	}
	return nil, false
}

// ObjectSize is the size of the TLV object at the start of EF fid of
// applet a when docs/card.md fixes it (docs/card.md §2; the sizes
// follow from the fixed lengths of keys, digests and signatures), or 0 when
// it varies from card to card (the 基本4情報, the card face, certificates).
// A reader uses it to read such a file in one command; a card whose object
// is larger is still read whole, from the header.
func ObjectSize(a Applet, fid uint16) int {
	switch a {
	case JPKI:
		if fid == JPKIToken {
			return 32 // the label; the 128 bytes after it are undocumented
		}
	case Text:
		switch fid {
		case TextMyNumber:
			return MyNumberEFBytes // the physical file (§2.2)
		case TextIntegrity:
			return 336
		case TextCVCert:
			return 568
		case TextSMKey:
			return 269
		case TextSignedKey:
			return 536
		}
	case Surface:
		switch fid {
		case SurfaceAgeRecord:
			return 547
		case SurfaceBasicInfo:
			return 316
		case SurfaceCVCert:
			return 568
		}
	}
	return 0
}
