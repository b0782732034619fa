package mynakit

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/face"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/present"
	"github.com/mynakit/mynakit/qr"
	"github.com/mynakit/mynakit/trust"
)

// ReportFormat is the "format" member of a Report's JSON.
const ReportFormat = "mynakit-report/1"

// Report is what one read found: the facts of each part read, every check
// made, and the verdict over them (see the package doc for the rule). Its
// JSON form (MarshalJSON) is the documented contract the CLI prints and the
// bridge serves.
type Report struct {
	Reader     string
	Token      jpki.Token // from the JPKI token label (docs/card.md §1.3)
	TokenLabel string

	Text    *TextPart    // nil when not read
	Surface *SurfacePart // nil when not read
	Common  *CommonPart  // nil when not read
	JPKI    *JPKIPart    // nil when not read

	// Missing lists the applets a smartphone token lacks (not a failure:
	// such a token has only the JPKI applet). A card that lacks an applet
	// fails card:applets instead.
	Missing []myna.Applet

	Checks  []trust.Check
	Verdict trust.Verdict
	// Anchors are the distinct trust anchors the checks rest on.
	Anchors []trust.Anchor
	Expiry  Expiry

	// Stats is the traffic the read cost.
	Stats apdu.Stats

	text    *cardap.Text
	surface *cardap.Surface
}

// TestAnchors reports whether any check rests on an anchor that is not a
// J-LIS production anchor (the simulator's, a key from a trust folder). Such a
// verdict says nothing about a real card.
func (r *Report) TestAnchors() bool {
	for _, a := range r.Anchors {
		if !a.Production {
			return true
		}
	}
	return false
}

// Failed lists the checks that did not pass.
func (r *Report) Failed() []trust.Check {
	var out []trust.Check
	for _, c := range r.Checks {
		if c.Result != trust.Pass {
			out = append(out, c)
		}
	}
	return out
}

// Check returns the check of the given name, if it was made.
func (r *Report) Check(name trust.CheckName) (trust.Check, bool) { return findCheck(r.Checks, name) }

// Covered reports whether the J-LIS signature that covers a card-face
// picture (face.Part.CoveredBy) passed in this read: only then may the
// picture be shown or exported as the card's.
func (r *Report) Covered(p face.Part) bool {
	c, ok := r.Check(p.CoveredBy())
	return p.CoveredBy() != "" && ok && c.Result == trust.Pass
}

// TextPart is the 券面事項入力補助AP: the My Number and the four basic facts,
// all covered by the applet's J-LIS integrity signature, and tied to the chip
// in the reader only by the applet's own presence proof (presence:text) —
// never by the card face accepting the My Number as 照合番号A.
type TextPart struct {
	MyNumber  cardap.MyNumber // "" when EF 0001 was not read (opened with 照合番号B)
	Name      string
	Address   string
	BirthDate myna.Date
	Sex       cardap.Sex
}

// SurfacePart is the 券面事項確認AP. BirthDate, Sex and the images are
// covered by the card-face signature; ExpiryDate, MunicipalityCode and
// SecurityCodeImage are not (docs/card.md §5.7) and are shown as
// unsigned.
type SurfacePart struct {
	BirthDate     myna.Date
	Sex           cardap.Sex
	Photo         []byte    // JPEG 2000 (JP2)
	NameImage     []byte    // PNG
	AddressImage  []byte    // PNG
	AgeBirthDate  myna.Date // EF 0001, when read
	MyNumberImage []byte    // EF 0005, when read
	// PhotoImage is the decoded photo, when ReadOptions.Photo asked for it;
	// PhotoError says why it is nil then.
	PhotoImage image.Image
	PhotoError string

	// Not covered by any J-LIS signature.
	ExpiryDate        myna.Date
	MunicipalityCode  string // EF 0003, when read
	SecurityCodeImage []byte
}

// CommonPart is the 共通AP card-information record. Nothing signs it.
type CommonPart struct {
	Serial           string
	MunicipalityCode string
	ExpiryDate       myna.Date
}

// JPKIPart is the JPKI applet's user-authentication certificate.
type JPKIPart struct {
	AuthCertificate *x509.Certificate
	// KeyProven is true when the chip signed a host nonce with the
	// certificate's key (check presence:jpki). Without it the part shows
	// "key not proven": a certificate is public, and anyone can copy one.
	KeyProven bool
	// CertificateCheck is the authentication certificate's own check
	// (x509:auth-certificate): Status says exactly what it found.
	CertificateCheck trust.Check
	// AuthCA and SignCA are the CA certificates the card carries, read for
	// a thorough read; they are compared with the anchors, never trusted.
	AuthCA, SignCA *x509.Certificate
}

// Expiry gathers the dates a clerk checks.
type Expiry struct {
	// Card is the card's expiry (its last valid day) from the card face
	// or the 共通AP record. No J-LIS signature covers it.
	Card        myna.Date
	CardExpired bool
	// AuthCertificate is the authentication certificate's notAfter (zero
	// when not read); it is signed.
	AuthCertificate    time.Time
	CertificateExpired bool
	Revoked            bool
}

// TextData is the decoded text applet behind Report.Text, with the bytes
// the card returned, for packages that re-check exactly those (QR codes);
// nil when the part was not read.
func (r *Report) TextData() *cardap.Text { return r.text }

// SurfaceData is the decoded card face behind Report.Surface, with the
// bytes the card returned (face export, QR codes); nil when not read.
func (r *Report) SurfaceData() *cardap.Surface { return r.surface }

// FaceImages are the card-face pictures as stored, for face.Exports.
func (r *Report) FaceImages() face.Images {
	if r.Surface == nil {
		return face.Images{}
	}
	s := r.Surface
	return face.Images{Photo: s.Photo, Name: s.NameImage, Address: s.AddressImage, MyNumber: s.MyNumberImage, SecurityCode: s.SecurityCodeImage}
}

// ErrNotRead: the part a QR code needs was not read (ReadOptions).
var ErrNotRead = errors.New("the card data this needs was not read")

// NotGenuineError: a QR code was asked of a card whose read is not
// genuine (or genuine-expired). A code carries the card's own signed data,
// which a scanner verifies offline; made from a clone or a shim, it would
// lend that card's data a second, portable life.
type NotGenuineError struct{ Verdict trust.Verdict }

func (e *NotGenuineError) Error() string {
	return "真正と確認できないカードからはコードを作りません no code is made from a card that is not genuine: " + string(e.Verdict)
}

// QRCode makes an offline-verifiable code of the kind from what the card
// returned: qr.KindAge from the age-verification record (read it with
// ReadOptions.AgeRecord), qr.KindAttributes from the text applet's four
// basic facts — which, through the My Number file's digest, effectively
// discloses the My Number (see package qr). Only a read whose verdict is
// genuine or genuine-expired makes a code (*NotGenuineError otherwise);
// the code's own verdict is judged again by whoever scans it.
func (r *Report) QRCode(kind qr.Kind) (*qr.Payload, error) {
	if r.Verdict != trust.Genuine && r.Verdict != trust.GenuineExpired {
		return nil, &NotGenuineError{Verdict: r.Verdict}
	}
	switch kind {
	case qr.KindAge:
		if r.surface == nil || r.surface.Raw.AgeRecord == nil {
			return nil, fmt.Errorf("age code: %w (the age-verification record)", ErrNotRead)
		}
		return qr.MakeAge(r.surface.Raw.AgeRecord, r.surface.Raw.CVCert)
	case qr.KindAttributes:
		if r.text == nil || r.text.Raw.Attributes == nil {
			return nil, fmt.Errorf("attributes code: %w (the text applet)", ErrNotRead)
		}
		return qr.MakeAttributes(r.text.Raw.Attributes, r.text.Raw.Integrity, r.text.Raw.CVCert)
	}
	return nil, fmt.Errorf("no QR code of kind %v", kind)
}

// --- JSON ---

type reportJSON struct {
	Format       string       `json:"format"`
	Reader       string       `json:"reader,omitempty"`
	Token        *tokenJSON   `json:"token,omitempty"`
	Text         *textJSON    `json:"text,omitempty"`
	Surface      *surfaceJSON `json:"surface,omitempty"`
	Common       *commonJSON  `json:"common,omitempty"`
	JPKI         *jpkiJSON    `json:"jpki,omitempty"`
	Missing      []string     `json:"missing_applets,omitempty"`
	Expiry       expiryJSON   `json:"expiry"`
	Verification verifyJSON   `json:"verification"`
	Traffic      trafficJSON  `json:"traffic"`
}

type tokenJSON struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
}

type textJSON struct {
	MyNumber  string    `json:"my_number,omitempty"`
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	BirthDate myna.Date `json:"birth_date"`
	Sex       string    `json:"sex"`
}

type blobJSON struct {
	Format string `json:"format"`
	Bytes  int    `json:"bytes"`
}

func blob(b []byte) *blobJSON {
	if b == nil {
		return nil
	}
	return &blobJSON{Format: present.ImageFormat(b), Bytes: len(b)}
}

type surfaceJSON struct {
	BirthDate     myna.Date       `json:"birth_date"`
	Sex           string          `json:"sex"`
	Photo         *blobJSON       `json:"photo"`
	NameImage     *blobJSON       `json:"name_image"`
	AddressImage  *blobJSON       `json:"address_image"`
	AgeBirthDate  myna.Date       `json:"age_birth_date,omitzero"`
	MyNumberImage *blobJSON       `json:"my_number_image,omitempty"`
	Unsigned      surfaceUnsigned `json:"unsigned"`
}

type surfaceUnsigned struct {
	ExpiryDate        myna.Date `json:"expiry_date"`
	MunicipalityCode  string    `json:"municipality_code,omitempty"`
	SecurityCodeImage *blobJSON `json:"security_code_image"`
}

type commonJSON struct {
	Unsigned commonUnsigned `json:"unsigned"`
}

type commonUnsigned struct {
	Serial           string    `json:"serial"`
	MunicipalityCode string    `json:"municipality_code"`
	ExpiryDate       myna.Date `json:"expiry_date"`
}

type jpkiJSON struct {
	AuthCertificate present.Certificate `json:"auth_certificate"`
	KeyProven       bool                `json:"key_proven"`
	Status          string              `json:"status"`
}

type expiryJSON struct {
	Card               myna.Date `json:"card,omitzero"`
	CardSigned         bool      `json:"card_signed"`
	CardExpired        bool      `json:"card_expired"`
	AuthCertificate    string    `json:"auth_certificate,omitempty"`
	CertificateExpired bool      `json:"certificate_expired"`
	Revoked            bool      `json:"revoked"`
}

type anchorJSON struct {
	Name       string `json:"name"`
	Production bool   `json:"production"`
}

type verifyJSON struct {
	Verdict     trust.Verdict `json:"verdict"`
	TestAnchors bool          `json:"test_anchors"`
	Anchors     []anchorJSON  `json:"anchors"`
	Checks      []trust.Check `json:"checks"`
}

type trafficJSON struct {
	APDUs         int64 `json:"apdus"`
	BytesSent     int64 `json:"bytes_sent"`
	BytesReceived int64 `json:"bytes_received"`
}

// Status describes the JPKI part in words, saying exactly what was
// checked: the certificate's own check (valid, expired or revoked, not
// verified, invalid) and whether the chip proved its key.
func (p *JPKIPart) Status() string {
	key := "key not proven"
	if p.KeyProven {
		key = "key proven"
	}
	return certificateState(p.CertificateCheck) + ", " + key
}

// MarshalVerificationJSON is the report's "verification" member alone:
// the verdict, whether it rests on test anchors, the anchors and every
// check.
func (r *Report) MarshalVerificationJSON() ([]byte, error) {
	return json.Marshal(r.verification())
}

func (r *Report) verification() verifyJSON {
	v := verifyJSON{Verdict: r.Verdict, TestAnchors: r.TestAnchors(), Anchors: []anchorJSON{}, Checks: r.Checks}
	if v.Checks == nil {
		v.Checks = []trust.Check{}
	}
	for _, a := range r.Anchors {
		v.Anchors = append(v.Anchors, anchorJSON{Name: a.Name, Production: a.Production})
	}
	return v
}

// MarshalJSON writes the documented contract (README.md documents every
// member). Values no J-LIS signature covers sit under "unsigned".
func (r *Report) MarshalJSON() ([]byte, error) {
	out := reportJSON{
		Format:       ReportFormat,
		Reader:       r.Reader,
		Expiry:       expiryJSON{Card: r.Expiry.Card, CardExpired: r.Expiry.CardExpired, CertificateExpired: r.Expiry.CertificateExpired, Revoked: r.Expiry.Revoked},
		Verification: r.verification(),
		Traffic:      trafficJSON{APDUs: r.Stats.Commands, BytesSent: r.Stats.BytesSent, BytesReceived: r.Stats.BytesReceived},
	}
	if !r.Expiry.AuthCertificate.IsZero() {
		out.Expiry.AuthCertificate = r.Expiry.AuthCertificate.UTC().Format(time.RFC3339)
	}
	if r.Token != "" {
		out.Token = &tokenJSON{Kind: string(r.Token), Label: r.TokenLabel}
	}
	if t := r.Text; t != nil {
		out.Text = &textJSON{MyNumber: t.MyNumber.Reveal(), Name: t.Name, Address: t.Address, BirthDate: t.BirthDate, Sex: string(t.Sex)}
	}
	if s := r.Surface; s != nil {
		out.Surface = &surfaceJSON{
			BirthDate: s.BirthDate, Sex: string(s.Sex),
			Photo: blob(s.Photo), NameImage: blob(s.NameImage), AddressImage: blob(s.AddressImage),
			AgeBirthDate: s.AgeBirthDate, MyNumberImage: blob(s.MyNumberImage),
			Unsigned: surfaceUnsigned{ExpiryDate: s.ExpiryDate, MunicipalityCode: s.MunicipalityCode, SecurityCodeImage: blob(s.SecurityCodeImage)},
		}
	}
	if c := r.Common; c != nil {
		out.Common = &commonJSON{Unsigned: commonUnsigned{Serial: c.Serial, MunicipalityCode: c.MunicipalityCode, ExpiryDate: c.ExpiryDate}}
	}
	if j := r.JPKI; j != nil && j.AuthCertificate != nil {
		out.JPKI = &jpkiJSON{AuthCertificate: present.CertificateOf(j.AuthCertificate), KeyProven: j.KeyProven, Status: j.Status()}
	}
	for _, a := range r.Missing {
		out.Missing = append(out.Missing, a.Name())
	}
	return json.Marshal(out)
}
