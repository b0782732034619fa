package persona

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
)

// ATR is the contact ATR of simulated cards (docs/card.md §7.1; OpenSC's
// jpki driver matches it directly).
var ATR = []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}

// Token labels (docs/card.md §1.3).
const (
	LabelCard    = "JPKIAPICCTOKEN2"
	LabelAndroid = "JPKIAPGPSETOKEN"
)

// cardFaceDigestInfoPrefix is the SHA-256 DigestInfo header whose OCTET
// STRING holds the three 32-byte card-face digests (docs/card.md §5.7).
var cardFaceDigestInfoPrefix = []byte{0x30, 0x71, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x60}

// Physical EF sizes are not documented (docs/card.md §10.5). The
// simulator gives every TLV-holding EF FF filler up to the next multiple of
// 256 bytes above the object (always at least one filler byte), except the
// EFs whose exact size is known: text 0001 (17), JPKI 0006 (160), JPKI 0008
// (3), text 0008 and surface 0006 (16 × FF).
func withFiller(obj []byte) []byte {
	size := min((len(obj)/256+1)*256, maxEFBytes)
	out := make([]byte, size)
	copy(out, obj)
	for i := len(obj); i < size; i++ {
		out[i] = 0xFF
	}
	return out
}

// maxEFBytes bounds a transparent EF: READ BINARY offsets are 15 bits
// (docs/card.md §4.3), so every byte must sit below 0x8000.
const maxEFBytes = 0x8000

func ffs(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xFF
	}
	return b
}

// Build turns a persona into a card image. It is deterministic: the same
// persona gives byte-identical images (fixed keys, serials and dates;
// PKCS#1 v1.5 signatures).
func Build(p *Persona) (*simulator.Image, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	ks, err := loadKeys()
	if err != nil {
		return nil, err
	}
	r, err := testRoots()
	if err != nil {
		return nil, err
	}
	b := &builder{p: p, ks: ks, img: &simulator.Image{
		Format:  simulator.ImageFormat,
		ATR:     append([]byte(nil), ATR...),
		Applets: map[string]*simulator.Applet{},
	}}
	if err := b.jpki(r); err != nil {
		return nil, err
	}
	if p.Token != jpki.TokenAndroid {
		if err := b.text(); err != nil {
			return nil, err
		}
		if err := b.surface(); err != nil {
			return nil, err
		}
		b.common()
		b.juki()
		b.mf()
	}
	if err := b.applyRemaining(); err != nil {
		return nil, err
	}
	b.compact()
	if err := b.img.Validate(); err != nil {
		return nil, fmt.Errorf("persona: built an invalid image: %w", err)
	}
	return b.img, nil
}

type builder struct {
	p   *Persona
	ks  map[string]testKey
	img *simulator.Image
}

func (b *builder) applet(a myna.Applet) *simulator.Applet {
	aid := fmt.Sprintf("%X", a.AID())
	ap := b.img.Applets[aid]
	if ap == nil {
		ap = &simulator.Applet{
			Files:       map[string]*simulator.File{},
			Keys:        map[string]*simulator.Key{},
			PrivateKeys: map[string]string{},
		}
		b.img.Applets[aid] = ap
	}
	return ap
}

// file adds a transparent EF with the access condition of docs/card.md
// §3.5 (myna.Openers); files the table does not name are free.
func (b *builder) file(a myna.Applet, fid uint16, data []byte) {
	openers, _ := myna.Openers(a, fid)
	b.applet(a).Files[simulator.FIDString(fid)] = &simulator.File{Data: data, Access: simulator.AccessString(openers)}
}

func (b *builder) key(a myna.Applet, fid uint16, value string) {
	max := maxTries(a, fid)
	b.applet(a).Keys[simulator.FIDString(fid)] = &simulator.Key{Value: secretPtr(value), Remaining: max, Max: max}
}

func secretPtr(s string) *simulator.Secret {
	v := simulator.Secret(s)
	return &v
}

func (b *builder) privateKey(a myna.Applet, fid uint16, name string) {
	b.applet(a).PrivateKeys[simulator.FIDString(fid)] = b.ks[name].pem
}

func (b *builder) pub(name string) []byte { return RSAPublicBytes(&b.ks[name].priv.PublicKey) }

// jpki builds the 公的個人認証AP (docs/card.md §2.1).
func (b *builder) jpki(r roots) error {
	authCert, signCert, err := b.p.userCerts(b.ks, r)
	if err != nil {
		return err
	}
	a := myna.JPKI
	b.file(a, myna.JPKISignCert, withFiller(signCert))
	b.file(a, myna.JPKISignCACert, withFiller(r.sign))
	b.file(a, myna.JPKIAuthCert, withFiller(authCert))
	b.file(a, myna.JPKIAuthCACert, withFiller(r.auth))
	label := LabelCard
	if b.p.Token == jpki.TokenAndroid {
		label = LabelAndroid
		// The Android token protects the authentication certificate (§7.7).
		b.applet(a).Files[simulator.FIDString(myna.JPKIAuthCert)].Access = simulator.AccessString([]uint16{myna.JPKIAuthPIN})
	}
	// 32-byte space-padded label, then 128 undocumented bytes (§1.3), here
	// erased (FF) like every other unused byte of the card.
	token := ffs(160)
	copy(token, label+strings.Repeat(" ", 32-len(label)))
	b.file(a, myna.JPKIToken, token)
	b.file(a, myna.JPKICertPresent, []byte{0x8F, 0x8F, 0x00})
	b.key(a, myna.JPKIAuthPIN, string(b.p.PINs.JPKIAuth))
	b.key(a, myna.JPKISignPIN, string(b.p.PINs.JPKISign))
	// The private key EFs carry their access condition (what a signature
	// needs) and no data.
	b.file(a, myna.JPKIAuthKey, nil)
	b.file(a, myna.JPKISignKey, nil)
	b.privateKey(a, myna.JPKIAuthKey, keyUserAuth)
	b.privateKey(a, myna.JPKISignKey, keyUserSign)
	return nil
}

// offsetTable is the DF21 object: for each field, its absolute offset from
// file byte 0 (docs/card.md §2.7). headerLen is the outer header's size.
func offsetTable(headerLen int, fields [][]byte) []byte {
	tableLen := 2 + 1 + 2*len(fields) // DF21, short length, u16s (≤ 63 fields)
	off := headerLen + tableLen
	val := make([]byte, 0, 2*len(fields))
	for _, f := range fields {
		val = binary.BigEndian.AppendUint16(val, uint16(off))
		off += len(f)
	}
	return tlv(0xDF21, val)
}

// withOffsets wraps fields in the outer tag with a DF21 offset table first.
func withOffsets(outer uint32, fields [][]byte) []byte {
	n := 2 + 1 + 2*len(fields)
	for _, f := range fields {
		n += len(f)
	}
	header := len(tlv(outer, make([]byte, n))) - n
	parts := append([][]byte{offsetTable(header, fields)}, fields...)
	return tlv(outer, parts...)
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// text builds the 券面事項入力補助AP (docs/card.md §2.2, §5.6, §5.8).
func (b *builder) text() error {
	p, a := b.p, myna.Text
	apKey := b.ks[keyTextAP].priv

	myNumber := concat([]byte{0xFF, 0x10, 0x0C}, []byte(p.MyNumber), []byte{0xFF, 0xFF})
	fields := [][]byte{
		tlv(0xDF22, []byte(p.Name)),
		tlv(0xDF23, []byte(p.Address)),
		tlv(0xDF24, []byte(p.BirthDate[0:4]+p.BirthDate[5:7]+p.BirthDate[8:10])),
		tlv(0xDF25, []byte(p.Sex)),
	}
	attrs := withOffsets(0xFF20, fields)

	h1 := sha256.Sum256(myNumber)
	h2 := sha256.Sum256(concat(fields...))
	d31, d32 := tlv(0xDF31, h1[:]), tlv(0xDF32, h2[:])
	integrity := tlv(0xFF30, d31, d32, tlv(0xDF33, sign(apKey, concat(d31, d32))))

	cv := CVCert(b.ks[keyCVTextCA].priv, IDCVTextCA, apKeyID(p.Municipality, "31"), &apKey.PublicKey)

	df43 := sha256.Sum256([]byte("mynakit-sim text DF43/" + p.Serial))
	basic := tlv(0xFF40,
		tlv(0xDF41, []byte{0x01, 0x03, 0x0E, 0x01}),
		tlv(0xDF42, IDTextInfo[:]),
		tlv(0xDF43, df43[:], ffs(96)))

	smKey := tlv(0xA1, b.pub(keyTextSM))
	df51 := tlv(0xDF51, b.pub(keyTextCard))
	signedKey := tlv(0xFF50, df51, tlv(0xDF52, sign(apKey, df51)))

	b.file(a, myna.TextMyNumber, myNumber)
	b.file(a, myna.TextAttributes, withFiller(attrs))
	b.file(a, myna.TextIntegrity, withFiller(integrity))
	b.file(a, myna.TextCVCert, withFiller(cv))
	b.file(a, myna.TextBasicInfo, withFiller(basic))
	b.file(a, myna.TextSMKey, withFiller(smKey))
	b.file(a, myna.TextSignedKey, withFiller(signedKey))
	b.file(a, 0x0008, ffs(16))

	codeB, err := p.codeB()
	if err != nil {
		return err
	}
	b.key(a, myna.TextPIN, string(p.PINs.Text))
	b.key(a, myna.TextBlockedKey, "")
	blocked := b.applet(a).Keys[simulator.FIDString(myna.TextBlockedKey)]
	blocked.Value, blocked.Remaining = nil, 0 // issued blocked, value unknown (§2.2)
	b.key(a, myna.TextCodeA, string(p.MyNumber))
	b.key(a, myna.TextCodeB, codeB)
	b.privateKey(a, myna.TextCardKey, keyTextCard)
	return nil
}

// surface builds the 券面事項確認AP (docs/card.md §2.3, §5.7).
func (b *builder) surface() error {
	p, a := b.p, myna.Surface
	apKey := b.ks[keySurfaceAP].priv
	birth := p.BirthDate[0:4] + p.BirthDate[5:7] + p.BirthDate[8:10]
	expiry := p.CardExpiry[0:4] + p.CardExpiry[5:7] + p.CardExpiry[8:10]
	cardPub := b.pub(keyCard)

	// EF 0001: age record.
	d11, d12 := tlv(0xDF11, []byte(birth)), tlv(0xDF12, cardPub)
	age := tlv(0xFF10, d11, d12, tlv(0xDF13, sign(apKey, concat(d11, d12))))

	// EF 0002: card face, tag order fixed (DF22..DF2A).
	photo, err := p.photo()
	if err != nil {
		return err
	}
	d22, d23, d24 := tlv(0xDF22, []byte(birth)), tlv(0xDF23, []byte(p.Sex)), tlv(0xDF24, cardPub)
	d25, d26 := tlv(0xDF25, textPNG(p.Name)), tlv(0xDF26, textPNG(p.Address))
	d27 := tlv(0xDF27, photo)
	h1 := sha256.Sum256(concat(d22, d23, d24))
	h2 := sha256.Sum256(concat(d25, d26))
	h3 := sha256.Sum256(d27)
	di := concat(cardFaceDigestInfoPrefix, h1[:], h2[:], h3[:])
	d28 := tlv(0xDF28, signDigestInfo(apKey, di))
	d29 := tlv(0xDF29, []byte(expiry))
	d2a := tlv(0xDF2A, textPNG(string(p.SecurityCode)))
	face := withOffsets(0xFF20, [][]byte{d22, d23, d24, d25, d26, d27, d28, d29, d2a})
	if len(face) >= maxEFBytes {
		return fmt.Errorf("persona: card face of %d bytes exceeds the %d bytes READ BINARY can address", len(face), maxEFBytes)
	}

	// EF 0003: AP basic information. DF35 on a card is an RSA ciphertext of
	// the 照合番号 to an issuer key; the simulator has no such key and
	// stores 256 deterministic opaque bytes (first byte 00) instead.
	ct := make([]byte, 0, 256)
	for i := byte(0); len(ct) < 256; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("mynakit-sim DF35/%s/%d", p.Serial, i)))
		ct = append(ct, h[:]...)
	}
	ct[0] = 0
	info := tlv(0xFF30,
		tlv(0xDF31, []byte{0x06, 0x03, 0x0E, 0x01}),
		tlv(0xDF32, IDSurfaceInfo[:]),
		tlv(0xDF33, []byte{0x00}),
		tlv(0xDF34, []byte(p.Municipality)),
		tlv(0xDF35, IDCodeCrypt[:], ct[:256]))

	cv := CVCert(b.ks[keyCVSurfaceCA].priv, IDCVSurfaceCA, apKeyID(p.Municipality, "21"), &apKey.PublicKey)

	// EF 0005: rendered 個人番号.
	d41, d42 := tlv(0xDF41, textPNG(string(p.MyNumber))), tlv(0xDF42, cardPub)
	numImg := tlv(0xFF40, d41, d42, tlv(0xDF43, sign(apKey, concat(d41, d42))))

	b.file(a, myna.SurfaceAgeRecord, withFiller(age))
	b.file(a, myna.SurfaceFace, withFiller(face))
	b.file(a, myna.SurfaceBasicInfo, withFiller(info))
	b.file(a, myna.SurfaceCVCert, withFiller(cv))
	b.file(a, myna.SurfaceMyNumberImg, withFiller(numImg))
	b.file(a, 0x0006, ffs(16))

	birthDate, _ := parseDate("birth_date", p.BirthDate)
	yymmdd, err := myna.EraYYMMDD(birthDate)
	if err != nil {
		return err
	}
	codeB, err := p.codeB()
	if err != nil {
		return err
	}
	b.key(a, myna.SurfaceBirthKey, yymmdd)
	b.key(a, myna.SurfaceCodeB, codeB)
	b.key(a, myna.SurfaceCodeA, string(p.MyNumber))
	b.privateKey(a, myna.SurfaceCardKey, keyCard)
	return nil
}

// keyRef is the 16-byte record of 共通AP and 住基AP EF 0002 (docs/card.md
// §2.4; which key it names is unknown, so it is stored as a bare key ID).
func keyRef() []byte { return append([]byte(nil), IDKeyRef[:]...) }

// commonRecord is 共通AP EF 0001 record 1 (docs/card.md §6.5).
func (p *Persona) commonRecord() []byte {
	expiry := p.CardExpiry[0:4] + p.CardExpiry[5:7] + p.CardExpiry[8:10]
	return []byte("\x01\x1c" + p.Serial + p.Municipality + expiry)
}

func (b *builder) records(a myna.Applet, fid uint16, recs ...[]byte) {
	openers, _ := myna.Openers(a, fid)
	f := &simulator.File{Access: simulator.AccessString(openers)}
	for _, r := range recs {
		f.Records = append(f.Records, r)
	}
	b.applet(a).Files[simulator.FIDString(fid)] = f
}

// common builds the 共通AP (docs/card.md §2.4).
func (b *builder) common() {
	a := myna.Common
	b.records(a, myna.CommonInfo, b.p.commonRecord())
	b.records(a, myna.CommonKeyRef, keyRef())
	b.key(a, myna.CommonPIN, string(b.p.PINs.Common))
	b.privateKey(a, myna.CommonAuthKey, keyCommon)
}

// juki builds the 住基AP (docs/card.md §2.5).
func (b *builder) juki() {
	a := myna.Juki
	b.records(a, myna.JukiKeyRef, keyRef())
	b.key(a, myna.JukiPIN, string(b.p.PINs.Juki))
}

// mf fills the MF-level GET DATA objects (docs/card.md §2.6, §5.5).
func (b *builder) mf() {
	p := b.p
	expiry := p.CardExpiry[0:4] + p.CardExpiry[5:7] + p.CardExpiry[8:10]
	inter := b.ks[keyCVInter].priv
	b.img.GetData = map[string]simulator.HexBytes{
		"00F0": []byte(p.Municipality),
		"00F2": []byte(expiry),
		"00F7": append([]byte(nil), IDCVInter[:]...),
		"00F8": CVCertBare(b.ks[keyCVRoot].priv, IDCVRoot, IDCVInter, &inter.PublicKey),
		"7F21": CVCertBare(inter, IDCVInter, IDMFLower, &b.ks[keyCard].priv.PublicKey),
		"5F51": append([]byte(nil), ATR[1:]...),
	}
}

// compact drops empty maps so that the image equals its own JSON round trip.
func (b *builder) compact() {
	for _, ap := range b.img.Applets {
		if len(ap.Files) == 0 {
			ap.Files = nil
		}
		if len(ap.Keys) == 0 {
			ap.Keys = nil
		}
		if len(ap.PrivateKeys) == 0 {
			ap.PrivateKeys = nil
		}
	}
}

// applyRemaining sets the persona's retry overrides.
func (b *builder) applyRemaining() error {
	for name, n := range b.p.Remaining {
		k, _ := myna.KeyByName(name)
		ap := b.img.Applets[fmt.Sprintf("%X", k.Applet.AID())]
		if ap == nil {
			return fmt.Errorf("persona: remaining: key %q is not on this token", name)
		}
		key := ap.Keys[simulator.FIDString(k.FID)]
		if key == nil {
			return fmt.Errorf("persona: remaining: key %q is not on this token", name)
		}
		key.Remaining = n
	}
	return nil
}
