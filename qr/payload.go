package qr

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/tlv"
)

// Version is the payload format version this package writes and reads.
const Version = 1

// Kind is what a code carries.
type Kind uint

const (
	// KindAge is the card-face applet's age-verification record (EF 0001):
	// the birth date and the card key under the J-LIS signature DF13.
	KindAge Kind = 1
	// KindAttributes is the text applet's four basic facts under the
	// integrity signature DF33, with the My Number file's digest DF31.
	KindAttributes Kind = 2
)

func (k Kind) String() string {
	switch k {
	case KindAge:
		return "age"
	case KindAttributes:
		return "attributes"
	}
	return fmt.Sprintf("kind %d", uint(k))
}

// MarshalText names the kind in JSON ("age", "attributes").
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads the name MarshalText writes.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ParseKind reads "age" or "attributes".
func ParseKind(s string) (Kind, error) {
	switch s {
	case "age":
		return KindAge, nil
	case "attributes":
		return KindAttributes, nil
	}
	return 0, fmt.Errorf("qr: unknown kind %q (want age or attributes)", s)
}

// Errors of Decode and the Make functions; test with errors.Is.
var (
	ErrTooLarge         = errors.New("qr: payload too large")
	ErrMalformed        = errors.New("qr: malformed payload")
	ErrTrailingData     = errors.New("qr: bytes after the payload")
	ErrVersion          = errors.New("qr: unknown payload version")
	ErrKind             = errors.New("qr: unknown payload kind")
	ErrMissingField     = errors.New("qr: payload field missing")
	ErrExtraField       = errors.New("qr: unexpected payload field")
	ErrNotDeterministic = errors.New("qr: payload is not deterministically encoded CBOR")
	ErrNotACode         = errors.New("qr: not a mynakit code")
	ErrCardData         = errors.New("qr: card data unusable for a code")
)

// MaxPayloadBytes is the most one QR code holds at error-correction level M
// (version 40, byte mode: 2331 bytes); no larger payload can come from one.
const MaxPayloadBytes = 2331

// Payload is one code's content. Every byte string is exactly what the card
// stores, so the J-LIS signatures verify over it unchanged.
type Payload struct {
	Kind Kind
	// CVBody and CVSignature are the applet's card-verifiable certificate
	// (EF 0004): the 297-byte body (5F4E: issuer key ID, subject key ID,
	// the applet's signing key) and the CA's signature over it (5F37).
	CVBody, CVSignature []byte
	// Record is what the record signature covers, as stored: for KindAge
	// the DF11 (birth date) and DF12 (card key) objects of surface EF 0001;
	// for KindAttributes the DF22-DF25 objects (name, address, birth date,
	// sex) of text EF 0002, whose SHA-256 is the integrity record's DF32.
	Record []byte
	// Signature is DF13 (age) or DF33 (attributes).
	Signature []byte
	// MyNumberDigest is DF31 of text EF 0003, SHA-256 of the My Number file
	// (KindAttributes only). Twelve digits with a check digit are few
	// enough to find from it by trying them all.
	MyNumberDigest []byte
}

// CBOR map keys (see README.md).
const (
	keyVersion        = 0
	keyKind           = 1
	keyCVBody         = 2
	keyCVSignature    = 3
	keyRecord         = 4
	keySignature      = 5
	keyMyNumberDigest = 6
)

var fieldNames = map[uint64]string{
	keyVersion: "version", keyKind: "kind", keyCVBody: "cv-body", keyCVSignature: "cv-signature",
	keyRecord: "record", keySignature: "signature", keyMyNumberDigest: "my-number-digest",
}

// fieldsOf lists the keys a kind must have, in order.
func fieldsOf(k Kind) []uint64 {
	f := []uint64{keyVersion, keyKind, keyCVBody, keyCVSignature, keyRecord, keySignature}
	if k == KindAttributes {
		f = append(f, keyMyNumberDigest)
	}
	return f
}

// wire is the payload as CBOR: a map with small unsigned integer keys.
type wire struct {
	Version        uint   `cbor:"0,keyasint"`
	Kind           uint   `cbor:"1,keyasint"`
	CVBody         []byte `cbor:"2,keyasint"`
	CVSignature    []byte `cbor:"3,keyasint"`
	Record         []byte `cbor:"4,keyasint"`
	Signature      []byte `cbor:"5,keyasint"`
	MyNumberDigest []byte `cbor:"6,keyasint,omitempty"`
}

var (
	encMode = mustEncMode()
	// decMode rejects duplicate keys and CBOR tags, and bounds nesting and
	// sizes; determinism is checked by re-encoding (Decode).
	decMode = mustDecMode()
)

func mustEncMode() cbor.EncMode {
	m, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err) // fixed options: cannot fail
	}
	return m
}

func mustDecMode() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  4,
		MaxArrayElements: 16,
		MaxMapPairs:      16,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}

// Encode writes the payload as deterministic CBOR (RFC 8949 §4.2.1).
func (p *Payload) Encode() ([]byte, error) {
	if err := p.checkFields(); err != nil {
		return nil, err
	}
	w := wire{Version: Version, Kind: uint(p.Kind), CVBody: p.CVBody, CVSignature: p.CVSignature,
		Record: p.Record, Signature: p.Signature, MyNumberDigest: p.MyNumberDigest}
	b, err := encMode.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("qr: encode: %w", err)
	}
	if len(b) > MaxPayloadBytes {
		return nil, fmt.Errorf("%w: %d bytes, one QR code holds %d", ErrTooLarge, len(b), MaxPayloadBytes)
	}
	return b, nil
}

// Field sizes (docs/card.md §2.2, §2.3, §5.4).
const (
	cvBodyLen    = 297
	maxSigLen    = 512 // RSA up to 4096 bits; the card's are 256 bytes
	maxRecordLen = 1024
	digestLen    = sha256.Size
)

func (p *Payload) checkFields() error {
	if p.Kind != KindAge && p.Kind != KindAttributes {
		return fmt.Errorf("%w: %d", ErrKind, uint(p.Kind))
	}
	bad := func(what string, n int, want string) error {
		return fmt.Errorf("%w: %s of %d bytes, want %s", ErrMalformed, what, n, want)
	}
	switch {
	case len(p.CVBody) != cvBodyLen:
		return bad("cv-body", len(p.CVBody), "297")
	case len(p.CVSignature) == 0 || len(p.CVSignature) > maxSigLen:
		return bad("cv-signature", len(p.CVSignature), "1 to 512")
	case len(p.Record) == 0 || len(p.Record) > maxRecordLen:
		return bad("record", len(p.Record), "1 to 1024")
	case len(p.Signature) == 0 || len(p.Signature) > maxSigLen:
		return bad("signature", len(p.Signature), "1 to 512")
	}
	if p.Kind == KindAttributes && len(p.MyNumberDigest) != digestLen {
		return bad("my-number-digest", len(p.MyNumberDigest), "32")
	}
	if p.Kind == KindAge && p.MyNumberDigest != nil {
		return fmt.Errorf("%w: my-number-digest in an age code", ErrExtraField)
	}
	return nil
}

// Decode reads a payload strictly: it must be one CBOR map, deterministically
// encoded, of a known version and kind, with exactly the fields of its kind
// and nothing after it.
func Decode(b []byte) (*Payload, error) {
	if len(b) > MaxPayloadBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), MaxPayloadBytes)
	}
	var m map[uint64]cbor.RawMessage
	if err := decMode.Unmarshal(b, &m); err != nil {
		var extra *cbor.ExtraneousDataError
		if errors.As(err, &extra) {
			return nil, fmt.Errorf("%w: %v", ErrTrailingData, err)
		}
		return nil, fmt.Errorf("%w: want one CBOR map with unsigned integer keys: %v", ErrMalformed, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: want a CBOR map", ErrMalformed)
	}
	uintField := func(key uint64) (uint64, error) {
		raw, ok := m[key]
		if !ok {
			return 0, fmt.Errorf("%w: %s", ErrMissingField, fieldNames[key])
		}
		var v uint64
		if len(raw) == 0 || raw[0]>>5 != 0 {
			return 0, fmt.Errorf("%w: %s is not an unsigned integer", ErrMalformed, fieldNames[key])
		}
		if err := decMode.Unmarshal(raw, &v); err != nil {
			return 0, fmt.Errorf("%w: %s: %v", ErrMalformed, fieldNames[key], err)
		}
		return v, nil
	}
	v, err := uintField(keyVersion)
	if err != nil {
		return nil, err
	}
	if v != Version {
		return nil, fmt.Errorf("%w: %d (this reader knows version %d)", ErrVersion, v, Version)
	}
	k, err := uintField(keyKind)
	if err != nil {
		return nil, err
	}
	kind := Kind(k)
	if kind != KindAge && kind != KindAttributes {
		return nil, fmt.Errorf("%w: %d", ErrKind, k)
	}
	want := fieldsOf(kind)
	var missing []string
	for _, key := range want {
		if _, ok := m[key]; !ok {
			missing = append(missing, fieldNames[key])
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s code without %s", ErrMissingField, kind, strings.Join(missing, ", "))
	}
	if len(m) != len(want) {
		var extra []string
		for key := range m {
			if !contains(want, key) {
				extra = append(extra, fmt.Sprint(key))
			}
		}
		return nil, fmt.Errorf("%w: %s code with key(s) %s", ErrExtraField, kind, strings.Join(extra, ", "))
	}
	bytesField := func(key uint64) ([]byte, error) {
		raw := m[key]
		if len(raw) == 0 || raw[0]>>5 != 2 {
			return nil, fmt.Errorf("%w: %s is not a byte string", ErrMalformed, fieldNames[key])
		}
		var v []byte
		if err := decMode.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, fieldNames[key], err)
		}
		return v, nil
	}
	p := &Payload{Kind: kind}
	for _, f := range []struct {
		key uint64
		dst *[]byte
	}{{keyCVBody, &p.CVBody}, {keyCVSignature, &p.CVSignature}, {keyRecord, &p.Record}, {keySignature, &p.Signature}, {keyMyNumberDigest, &p.MyNumberDigest}} {
		if _, ok := m[f.key]; !ok {
			continue
		}
		if *f.dst, err = bytesField(f.key); err != nil {
			return nil, err
		}
	}
	if err := p.checkFields(); err != nil {
		return nil, err
	}
	again, err := p.Encode()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, b) {
		return nil, fmt.Errorf("%w: shortest integer and length forms, definite lengths and keys in ascending order are required", ErrNotDeterministic)
	}
	return p, nil
}

func contains(list []uint64, v uint64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TextPrefix starts the text of every code, before the base45 payload.
const TextPrefix = "MYNAKIT:"

// Text is what the QR code holds: TextPrefix and the base45 (RFC 9285)
// form of the encoded payload, all in the QR alphanumeric character set.
func (p *Payload) Text() (string, error) {
	b, err := p.Encode()
	if err != nil {
		return "", err
	}
	return TextPrefix + base45Encode(b), nil
}

// ParseText reads a code's text (as a QR decoder returns it) back into the
// encoded payload bytes; Decode them next.
func ParseText(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, TextPrefix) {
		return nil, fmt.Errorf("%w: text does not start with %q", ErrNotACode, TextPrefix)
	}
	if len(s) > len(TextPrefix)+(MaxPayloadBytes+1)/2*3 {
		return nil, fmt.Errorf("%w: %d characters", ErrTooLarge, len(s))
	}
	b, err := base45Decode(s[len(TextPrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return b, nil
}

// bareCV rebuilds the certificate in the bare form GET DATA returns (5F4E
// body ‖ 5F37 signature), which cardap.ParseCVCertificate reads. The CA's
// signature covers the body alone, so the headers need not be the card's.
func (p *Payload) bareCV() []byte {
	b := tlv.Append(nil, 0x5F4E, p.CVBody)
	return tlv.Append(b, 0x5F37, p.CVSignature)
}

// MakeAge builds an age code from the card-face applet's EF 0001 (the
// age-verification record FF10 {DF11, DF12, DF13}) and EF 0004 (its CV
// certificate), both as read (filler after the object is ignored). It
// refuses a record whose signature does not verify under the certificate's
// key, which catches misread files; whether the certificate is J-LIS's is
// for Verify to say.
func MakeAge(ageRecordEF, cvCertEF []byte) (*Payload, error) {
	cv, err := cardap.ParseCVCertificate(cvCertEF)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCardData, err)
	}
	birth, key, sig, err := cardap.ParseAgeRecord(ageRecordEF)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCardData, err)
	}
	p := &Payload{Kind: KindAge, CVBody: cv.Body, CVSignature: cv.Signature,
		Record: cat(birth.Raw, key.Raw), Signature: sig}
	if _, err := parseAgeRecord(p.Record); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCardData, err)
	}
	if err := verifyUnder(cv.PublicKey, p.Record, p.Signature); err != nil {
		return nil, fmt.Errorf("%w: age-verification record does not verify under its certificate's key", ErrCardData)
	}
	return p, p.checkFields()
}

// MakeAttributes builds an attributes code from the text applet's EF 0002
// (the four basic facts), EF 0003 (the integrity record FF30 {DF31, DF32,
// DF33}) and EF 0004 (its CV certificate), as read. The code carries DF22 to
// DF25 and DF31; DF32 is recomputed from them when the code is verified.
// It refuses files whose digest DF32 or signature DF33 do not match.
func MakeAttributes(attributesEF, integrityEF, cvCertEF []byte) (*Payload, error) {
	cv, err := cardap.ParseCVCertificate(cvCertEF)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCardData, err)
	}
	record, err := cardap.BasicFactsFields(attributesEF)
	if err != nil {
		return nil, fmt.Errorf("%w: basic facts file: %v", ErrCardData, err)
	}
	integ, err := cardap.ParseIntegrityRecord(integrityEF)
	if err != nil {
		return nil, fmt.Errorf("%w: integrity record: %v", ErrCardData, err)
	}
	p := &Payload{Kind: KindAttributes, CVBody: cv.Body, CVSignature: cv.Signature,
		Record: record, Signature: integ.Signature, MyNumberDigest: integ.MyNumberDigest}
	if _, err := cardap.ParseBasicFacts(p.Record); err != nil {
		return nil, fmt.Errorf("%w: basic facts: %v", ErrCardData, err)
	}
	if sum := sha256.Sum256(record); !bytes.Equal(sum[:], integ.AttributesDigest) {
		return nil, fmt.Errorf("%w: the basic facts do not match the integrity record's digest", ErrCardData)
	}
	if !bytes.Equal(integritySigned(p), integ.Signed) {
		return nil, fmt.Errorf("%w: integrity record digests are not stored in the short form a code can rebuild", ErrCardData)
	}
	if err := verifyUnder(cv.PublicKey, integ.Signed, p.Signature); err != nil {
		return nil, fmt.Errorf("%w: integrity record does not verify under its certificate's key", ErrCardData)
	}
	return p, p.checkFields()
}

// integritySigned rebuilds what DF33 signs: DF31 TLV ‖ DF32 TLV, with DF32
// = SHA-256 of the DF22-DF25 objects (docs/card.md §5.6).
func integritySigned(p *Payload) []byte {
	sum := sha256.Sum256(p.Record)
	b := tlv.Append(nil, 0xDF31, p.MyNumberDigest)
	return tlv.Append(b, 0xDF32, sum[:])
}

func verifyUnder(pub *rsa.PublicKey, signed, sig []byte) error {
	sum := sha256.Sum256(signed)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
