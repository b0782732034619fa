// Package persona turns a card holder (a Persona) into a complete simulated
// card image whose every record is signed exactly as docs/card.md §5 says
// a real card's is — but by the simulator's own test hierarchy, whose keys
// are fixed and shipped in simulator/testdata/keys. Build is deterministic:
// the same persona always gives byte-identical images.
//
// Nothing this package signs chains to J-LIS: a reader trusts it only when
// told to (TestRootsPEM, TestCVKeysJSON, or the same content in
// simulator/testdata/trust, a folder a trust store can add).
package persona

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
)

// DateLayout is the form of every date in a persona file.
const DateLayout = "2006-01-02"

// PINs holds the secrets a holder chooses. The 照合番号A/B and the birth-date
// key are not set here: they derive from the My Number, the birth date, the
// expiry and the security code (docs/card.md §3.6). JSON names are the
// myna.Keys names.
type PINs struct {
	JPKIAuth simulator.Secret `json:"jpki-auth-pin"`      // 4 digits
	JPKISign simulator.Secret `json:"jpki-sign-password"` // 6-16 of A-Z 0-9, at least one letter and one digit
	Text     simulator.Secret `json:"text-pin"`           // 4 digits
	Common   simulator.Secret `json:"common-pin"`         // 4 digits
	Juki     simulator.Secret `json:"juki-pin"`           // 4 digits
}

// Persona is a card holder and the facts of their card. Its JSON form is the
// persona file `mynakit sim persona` prints and `--persona` reads; members
// left out keep Default's values, so this is a complete persona file:
//
//	{
//	  "name": "山田　花子",
//	  "birth_date": "1989-01-08",
//	  "sex": "2",
//	  "pins": {"jpki-auth-pin": "0000", "jpki-sign-password": "PASS1234",
//	           "text-pin": "0000", "common-pin": "0000", "juki-pin": "0000"},
//	  "remaining": {"jpki-auth-pin": 1},
//	  "token": "card",
//	  "photo": "hanako.jp2"
//	}
//
// Secret-bearing fields (PINs, My Number, security code) use
// simulator.Secret, which prints as [REDACTED]; only JSON shows them.
type Persona struct {
	Name      string           `json:"name"`       // 氏名, family and given name separated by U+3000
	Kana      string           `json:"kana"`       // reading; no card file holds it (docs/card.md §6.1)
	Address   string           `json:"address"`    // 住所, UTF-8 (full-width digits as on real cards)
	BirthDate string           `json:"birth_date"` // YYYY-MM-DD, Gregorian
	Sex       string           `json:"sex"`        // JIS X 0303: 1 male, 2 female, 9 not applicable, 0 unknown
	MyNumber  simulator.Secret `json:"my_number"`  // 12 digits, valid check digit (§8)

	CardExpiry   string           `json:"card_expiry"`   // YYYY-MM-DD
	SecurityCode simulator.Secret `json:"security_code"` // 4 digits printed on the card
	Municipality string           `json:"municipality"`  // 5-digit 全国地方公共団体コード of the issuer
	Serial       string           `json:"serial"`        // 15-digit card serial (共通AP record)
	// Locality is the romanised municipality the signing certificate's
	// subject names (L=..., one RDN each, e.g. ["Tokyo-to", "Kiyose-shi"]).
	Locality []string `json:"locality,omitempty"`
	// CertIssued is the day the JPKI certificates were issued (YYYY-MM-DD);
	// they expire on the holder's 5th birthday after it (or with the card).
	CertIssued string `json:"cert_issued"`

	PINs PINs `json:"pins"`

	// Remaining overrides the remaining tries of keys, by myna.Keys name
	// (e.g. {"jpki-auth-pin": 1}); 0 issues the key blocked.
	Remaining map[myna.KeyName]int `json:"remaining,omitempty"`

	// Token is jpki.TokenCard (default when empty; a physical card with
	// all five applets) or jpki.TokenAndroid (only the JPKI applet; EF 000A
	// needs the auth PIN), docs/card.md §1.3, §7.7.
	Token jpki.Token `json:"token,omitempty"`

	// Photo names a JPEG 2000 (JP2 container) file for the face photo; empty
	// means the built-in default. A relative path is taken relative to the
	// persona file when the persona came from Load, else to the working
	// directory.
	Photo string `json:"photo,omitempty"`

	dir string // directory of the persona file (Load), for Photo
}

// Default is the synthetic holder of the JPKI test card published by SOL
// (docs/card.md §0.2): 黒桐　幹也, born 1980-02-17, My Number 537686677188,
// card expiring 2035-02-17, security code 2285, issued by 清瀬市 (13221),
// serial 400000012719843. All four short PINs are "1234" and the signing
// password is "ABC123"; 照合番号B is therefore 55021720352285 and the
// 券面事項確認AP birth key 550217.
func Default() *Persona {
	return &Persona{
		Name:         "黒桐　幹也",
		Kana:         "コクトウ　ミキヤ",
		Address:      "東京都清瀬市観布子南１２－７－２０２",
		BirthDate:    "1980-02-17",
		Sex:          "1",
		MyNumber:     "537686677188",
		CardExpiry:   "2035-02-17",
		SecurityCode: "2285",
		Municipality: "13221",
		Serial:       "400000012719843",
		Locality:     []string{"Tokyo-to", "Kiyose-shi"},
		CertIssued:   "2025-10-27",
		PINs: PINs{
			JPKIAuth: "1234",
			JPKISign: "ABC123",
			Text:     "1234",
			Common:   "1234",
			Juki:     "1234",
		},
		Token: jpki.TokenCard,
	}
}

// Load reads a persona file. Members it omits keep the values of Default,
// so a file may hold only what differs from the default holder.
func Load(path string) (*Persona, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := parse(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("persona %s: %w", path, err)
	}
	return p, nil
}

// Parse decodes and validates a persona; omitted members keep Default's values.
// A relative photo path is taken relative to the working directory.
func Parse(b []byte) (*Persona, error) { return parse(b, "") }

func parse(b []byte, dir string) (*Persona, error) {
	p := Default()
	p.dir = dir
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("persona: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// JSON encodes the persona as indented JSON (secrets included: a persona
// file holds them by design).
func (p *Persona) JSON() ([]byte, error) { return json.MarshalIndent(p, "", "  ") }

func parseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("persona: %s %q is not a YYYY-MM-DD date", field, s)
	}
	return t, nil
}

// ValidSignPassword reports whether s is a valid 署名用パスワード: 6-16
// characters from A-Z and 0-9 with at least one letter and one digit
// (docs/card.md §3.1).
func ValidSignPassword(s string) bool {
	if len(s) < 6 || len(s) > 16 {
		return false
	}
	var letter, digit bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			return false
		}
	}
	return letter && digit
}

// Field size limits: the text fields must fit the card's files with room
// for the offset tables; real values are far shorter.
const (
	maxNameBytes    = 200
	maxAddressBytes = 400
	maxPhotoBytes   = 24 << 10 // the card face EF must stay within READ BINARY's 15-bit offsets
)

// Validate checks every member. Errors name the member, never a secret's value.
func (p *Persona) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("persona: "+format, a...)) }

	if p.Name == "" || !utf8.ValidString(p.Name) || len(p.Name) > maxNameBytes {
		bad("name must be 1-%d bytes of UTF-8", maxNameBytes)
	}
	if !utf8.ValidString(p.Kana) {
		bad("kana is not UTF-8")
	}
	if p.Address == "" || !utf8.ValidString(p.Address) || len(p.Address) > maxAddressBytes {
		bad("address must be 1-%d bytes of UTF-8", maxAddressBytes)
	}
	birth, err := parseDate("birth_date", p.BirthDate)
	if err != nil {
		errs = append(errs, err)
	} else if _, err := myna.EraYYMMDD(birth); err != nil {
		bad("birth_date: %v", err)
	}
	switch p.Sex {
	case "0", "1", "2", "9":
	default:
		bad("sex %q must be one of 0, 1, 2, 9 (JIS X 0303)", p.Sex)
	}
	if !myna.Digits(string(p.MyNumber), 12) {
		bad("my_number must be 12 digits")
	} else if !myna.ValidMyNumber(string(p.MyNumber)) {
		bad("my_number has a wrong check digit")
	}
	expiry, err := parseDate("card_expiry", p.CardExpiry)
	if err != nil {
		errs = append(errs, err)
	} else {
		if expiry.Year() > 9999 || expiry.Year() < 2000 {
			bad("card_expiry year out of range")
		}
		if !birth.IsZero() && !expiry.After(birth) {
			bad("card_expiry must be after birth_date")
		}
	}
	issued, err := parseDate("cert_issued", p.CertIssued)
	if err != nil {
		errs = append(errs, err)
	} else {
		if !birth.IsZero() && issued.Before(birth) {
			bad("cert_issued must not be before birth_date")
		}
		if !expiry.IsZero() && !issued.Before(expiry) {
			bad("cert_issued must be before card_expiry")
		}
	}
	if !myna.Digits(string(p.SecurityCode), 4) {
		bad("security_code must be 4 digits")
	}
	if !myna.Digits(p.Municipality, 5) {
		bad("municipality %q must be 5 digits", p.Municipality)
	}
	if !myna.Digits(p.Serial, 15) {
		bad("serial %q must be 15 digits", p.Serial)
	}
	for _, l := range p.Locality {
		if l == "" || len(l) > 64 || !printable(l) {
			bad("locality %q must be 1-64 printable ASCII characters", l)
		}
	}
	for name, v := range map[string]simulator.Secret{
		"jpki-auth-pin": p.PINs.JPKIAuth, "text-pin": p.PINs.Text,
		"common-pin": p.PINs.Common, "juki-pin": p.PINs.Juki,
	} {
		if !myna.Digits(string(v), 4) {
			bad("pins.%s must be 4 digits", name)
		}
	}
	if !ValidSignPassword(string(p.PINs.JPKISign)) {
		bad("pins.jpki-sign-password must be 6-16 of A-Z and 0-9 with at least one letter and one digit")
	}
	switch p.Token {
	case "", jpki.TokenCard, jpki.TokenAndroid:
	default:
		bad("token %q must be %q or %q", p.Token, jpki.TokenCard, jpki.TokenAndroid)
	}
	for name, n := range p.Remaining {
		k, ok := myna.KeyByName(name)
		if !ok {
			bad("remaining: unknown key %q", name)
			continue
		}
		if p.Token == jpki.TokenAndroid && k.Applet != myna.JPKI {
			bad("remaining: key %q is not on an android token", name)
		}
		if max := maxTries(k.Applet, k.FID); n < 0 || n > max {
			bad("remaining[%q] = %d, want 0..%d", name, n, max)
		}
	}
	if p.Photo != "" {
		if _, err := p.photo(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return false
		}
	}
	return true
}

// jp2Signature is the JPEG 2000 signature box every JP2 file starts with
// (docs/card.md §6.4).
var jp2Signature = []byte{0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A}

// photo returns the JP2 bytes of the face photo.
func (p *Persona) photo() ([]byte, error) {
	if p.Photo == "" {
		return defaultPhoto()
	}
	path := p.Photo
	if !filepath.IsAbs(path) && p.dir != "" {
		path = filepath.Join(p.dir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("persona: photo: %w", err)
	}
	if len(b) > maxPhotoBytes {
		return nil, fmt.Errorf("persona: photo %s: %d bytes, at most %d", p.Photo, len(b), maxPhotoBytes)
	}
	if len(b) < len(jp2Signature)+8 || string(b[:len(jp2Signature)]) != string(jp2Signature) {
		return nil, fmt.Errorf("persona: photo %s is not a JPEG 2000 (JP2) file", p.Photo)
	}
	return b, nil
}

// codeB is 照合番号B: era YYMMDD of birth ‖ expiry year ‖ security code (§3.6).
func (p *Persona) codeB() (string, error) {
	birth, err := parseDate("birth_date", p.BirthDate)
	if err != nil {
		return "", err
	}
	yymmdd, err := myna.EraYYMMDD(birth)
	if err != nil {
		return "", err
	}
	return yymmdd + p.CardExpiry[:4] + string(p.SecurityCode), nil
}
