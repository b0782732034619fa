package cardap

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// TextRaw is what the 券面事項入力補助AP returned, byte for byte. A nil file
// was not read.
type TextRaw struct {
	MyNumberEF []byte // EF 0001 as stored: all 17 bytes, filler included
	Attributes []byte // EF 0002 object
	Integrity  []byte // EF 0003 object
	CVCert     []byte // EF 0004 object
	SignedKey  []byte // EF 0007 object
	// CVCached is true when CVCert came from a CVCache: the card's EF 0004
	// named it in its first bytes and was not read further.
	CVCached bool
	Faults   []Fault
}

// Format keeps the 個人番号 EF (its digits are plain ASCII) out of fmt
// output, as MyNumber does; the other files are summarised by size.
func (r TextRaw) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{MyNumberEF:[redacted %d bytes] Attributes:[%d bytes] Integrity:[%d bytes] CVCert:[%d bytes] SignedKey:[%d bytes] Faults:%d}",
		len(r.MyNumberEF), len(r.Attributes), len(r.Integrity), len(r.CVCert), len(r.SignedKey), len(r.Faults))
}

// TextOptions chooses the text applet's optional files.
type TextOptions struct {
	// Attributes reads EF 0002, the four basic facts (short PIN or
	// 照合番号B).
	Attributes bool
	// MyNumber reads EF 0001, which the short PIN or 照合番号A opens (not
	// 照合番号B, docs/card.md §3.5). With Attributes, EF 0001 is read only
	// when the session already holds what opens it — the PIN that opened
	// EF 0002, or 照合番号A — so a card face opened with 照合番号B never
	// leads to a prompt for the My Number.
	MyNumber bool
	// SignedKey reads EF 0007, the applet's card key, for the text
	// applet's own presence proof (needed whenever its facts are shown:
	// nothing else ties them to the chip). EF 0007 opens with the PIN,
	// 照合番号A or 照合番号B (docs/card.md §3.5), so it is read with the
	// other files, in one command (its size is fixed, §2.2).
	SignedKey bool
	// CVCache, when set, spares reading EF 0004 past its header when it
	// names a certificate the cache holds (see CVCache).
	CVCache *CVCache
}

// ReadText reads the 券面事項入力補助AP through the session: EF 0003 and
// EF 0004 (the integrity record and the CV certificate that verifies it)
// and the files opts names. The error is non-nil only when the card could not be
// asked or a secret was refused; files the card answered badly are Faults.
func ReadText(ctx context.Context, sess Session, opts TextOptions) (*TextRaw, error) {
	raw := &TextRaw{}
	if opts.Attributes {
		// Alone and first: whether EF 0001 can be read without a prompt
		// depends on what opening EF 0002 took.
		a := []fileRead{{fid: myna.TextAttributes, dst: &raw.Attributes}}
		if err := fetchAll(ctx, sess, myna.Text, a, &raw.Faults); err != nil {
			return raw, err
		}
	}
	var files []fileRead
	if opts.MyNumber && (!opts.Attributes || sess.Holds(myna.CodeA) || verifiedPIN(sess)) {
		// The 個人番号 EF is exactly 17 bytes (§2.2); 64 bounds a card that
		// claims more.
		files = append(files, fileRead{fid: myna.TextMyNumber, dst: &raw.MyNumberEF, how: readPhysical, limit: 64})
	}
	files = append(files, fileRead{fid: myna.TextIntegrity, dst: &raw.Integrity})
	if opts.SignedKey {
		files = append(files, fileRead{fid: myna.TextSignedKey, dst: &raw.SignedKey})
	}
	if err := fetchAll(ctx, sess, myna.Text, files, &raw.Faults); err != nil {
		return raw, err
	}
	var err error
	raw.CVCert, raw.CVCached, err = readCV(ctx, sess, myna.Text, opts.CVCache, &raw.Faults)
	return raw, err
}

// Text is the 券面事項入力補助AP's data as decoded, with what its J-LIS
// signature allows a caller to rely on.
type Text struct {
	MyNumber  MyNumber // "" when EF 0001 was not read or did not parse
	Name      string
	Address   string
	BirthDate myna.Date // zero when it did not parse
	Sex       Sex

	Raw TextRaw

	cv          *CVCertificate
	cardKey     *rsa.PublicKey // EF 0007 DF51 when its signature verified
	myNumberOK  bool           // EF 0001 matches a record signed by the EF 0004 key
	birthDateOK bool           // DF24 matches a record signed by the EF 0004 key
}

// textFields holds the parsed pieces Verify needs.
type textFields struct {
	attrs      [4]tlv.TLV // DF22..DF25 as stored
	haveAttrs  bool
	digestMyNo []byte // DF31
	digestAttr []byte // DF32
	signedPart []byte // DF31 TLV ‖ DF32 TLV, as stored
	signature  []byte // DF33
	haveInteg  bool
	keyTLV     tlv.TLV // EF 0007 DF51
	keySig     []byte  // EF 0007 DF52
	haveKey    bool
}

// VerifyText decodes the applet's files and checks them against store
// (docs/card.md §5.6, §5.8): the CV certificate under a J-LIS text-role
// key, both digests of the integrity record, its signature, the signed card
// key and the My Number's check digit, plus the files' format. It never
// fails: what does not parse is a failed check.
func VerifyText(raw TextRaw, store *trust.Store) (*Text, []trust.Check) {
	t := &Text{Raw: raw}
	var f textFields
	var bad []string
	for _, flt := range raw.Faults {
		bad = append(bad, flt.String())
	}

	// EF 0001: FF 10 0C <12 digits> then filler.
	if raw.MyNumberEF != nil {
		mn, _, err := tlv.Parse(raw.MyNumberEF)
		switch {
		case err != nil || mn.Tag != 0xFF10 || len(mn.Value) != 12:
			bad = append(bad, "個人番号 EF 0001 is not FF10 with 12 bytes")
		case !myna.Digits(string(mn.Value), 12):
			bad = append(bad, "個人番号 EF 0001 holds something other than 12 digits")
		default:
			t.MyNumber = MyNumber(mn.Value)
		}
	}
	// EF 0002: FF 20 { DF21 offsets; DF22 name; DF23 address; DF24 birth; DF25 sex }.
	if raw.Attributes != nil {
		if err := parseAttributes(raw.Attributes, &f, t); err != nil {
			bad = append(bad, "基本4情報 EF 0002: "+err.Error())
		}
	}
	// EF 0003: FF 30 { DF31 digest; DF32 digest; DF33 signature }.
	if raw.Integrity != nil {
		if err := parseIntegrity(raw.Integrity, &f); err != nil {
			bad = append(bad, "integrity record EF 0003: "+err.Error())
		}
	}
	var cvErr error
	if raw.CVCert != nil {
		if t.cv, cvErr = ParseCVCertificate(raw.CVCert); cvErr != nil {
			bad = append(bad, "EF 0004: "+cvErr.Error())
		}
	}
	if raw.SignedKey != nil {
		if err := parseSignedKey(raw.SignedKey, &f); err != nil {
			bad = append(bad, "signed key EF 0007: "+err.Error())
		}
	}

	checks := []trust.Check{formatCheck(trust.CheckTextFormat, "the text applet's files", bad)}
	cvCheck := cvCheckOf(t.cv, cvErr, store, trust.RoleText, trust.CheckTextCV)
	if raw.CVCached {
		cvCheck.Detail += " (from the verified-certificate cache: the card's EF 0004 names it)"
	}
	checks = append(checks, cvCheck)

	digest := func(name trust.CheckName, have bool, got, want []byte, what string) trust.Check {
		ch := trust.Check{Name: name}
		switch {
		case !have:
			return failed(ch, cvCheck, what+" or the integrity record could not be read or parsed")
		case !bytes.Equal(got, want):
			return failed(ch, cvCheck, what+" does not match the digest in the integrity record")
		}
		return passUnder(ch, cvCheck, what+" matches the integrity record")
	}
	sigOK := false
	var integ trust.Check
	if !f.haveInteg || t.cv == nil {
		integ = failed(trust.Check{Name: trust.CheckTextIntegrity}, cvCheck, "integrity record or CV certificate missing or malformed")
	} else {
		integ = t.cv.CheckRecord(trust.CheckTextIntegrity, cvCheck, f.signedPart, f.signature, "integrity record")
		sigOK = integ.Result != trust.Fail
	}

	if raw.MyNumberEF != nil || hasFault(raw.Faults, myna.TextMyNumber) {
		sum := sha256.Sum256(raw.MyNumberEF)
		ch := digest(trust.CheckTextMyNumberDigest, raw.MyNumberEF != nil && f.haveInteg, sum[:], f.digestMyNo, "個人番号 file")
		checks = append(checks, ch)
		t.myNumberOK = sigOK && ch.Result != trust.Fail && t.MyNumber.Valid()
	}
	if raw.Attributes != nil || hasFault(raw.Faults, myna.TextAttributes) {
		var fields []byte
		for _, a := range f.attrs {
			fields = append(fields, a.Raw...)
		}
		sum := sha256.Sum256(fields)
		attrCheck := digest(trust.CheckTextAttrDigest, f.haveAttrs && f.haveInteg, sum[:], f.digestAttr, "基本4情報 (name, address, birth date, sex)")
		checks = append(checks, attrCheck)
		t.birthDateOK = sigOK && attrCheck.Result != trust.Fail && !t.BirthDate.IsZero()
	}
	checks = append(checks, integ)

	if raw.SignedKey != nil || hasFault(raw.Faults, myna.TextSignedKey) {
		var ch trust.Check
		t.cardKey, ch = VerifySignedKey(raw.SignedKey, t.cv, cvCheck)
		checks = append(checks, ch)
	}
	if raw.MyNumberEF != nil {
		cd := trust.Check{Name: trust.CheckTextCheckDigit, Result: trust.Pass, Detail: "check digit is correct"}
		if !t.MyNumber.Valid() {
			cd.Result, cd.Detail = trust.Fail, "check digit is wrong, or the number is not 12 digits"
		}
		checks = append(checks, cd)
	}
	return t, checks
}

func verifiedPIN(sess Session) bool {
	return slices.Contains(sess.Verified(myna.Text), myna.KeyTextPIN)
}

func hasFault(fs []Fault, fid uint16) bool {
	for _, f := range fs {
		if f.FID == fid {
			return true
		}
	}
	return false
}

func parseAttributes(b []byte, f *textFields, t *Text) error {
	attrs, err := attributeObjects(b)
	if attrs == nil {
		return err
	}
	f.attrs, f.haveAttrs = *attrs, true
	if err != nil {
		return err
	}
	// The text is kept even when it is malformed, so the clerk sees what
	// the card says beside the failed check (printers escape it).
	facts, err := basicFacts(f.attrs)
	t.Name, t.Address, t.BirthDate, t.Sex = facts.Name, facts.Address, facts.BirthDate, facts.Sex
	return err
}

// attributeObjects checks the shape of EF 0002 — FF20 holding DF21 (the
// offset table) and DF22 to DF25 in that order — and returns the four
// fields. With a wrong offset table the fields are returned with the error.
func attributeObjects(b []byte) (*[4]tlv.TLV, error) {
	attr, _, err := tlv.Parse(b)
	if err != nil || attr.Tag != 0xFF20 {
		return nil, fmt.Errorf("want an FF20 object")
	}
	kids, err := attr.Children()
	if err != nil {
		return nil, fmt.Errorf("contents do not parse as TLV objects")
	}
	if len(kids) != 5 || kids[0].Tag != 0xDF21 {
		return nil, fmt.Errorf("want DF21 and DF22-DF25, in that order")
	}
	var fields [4]tlv.TLV
	for i, tag := range []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25} {
		if kids[i+1].Tag != tag {
			return nil, fmt.Errorf("want DF21 and DF22-DF25, in that order")
		}
		fields[i] = kids[i+1]
	}
	return &fields, checkOffsets(attr, kids)
}

// BasicFactsFields returns DF22 ‖ DF23 ‖ DF24 ‖ DF25 of EF 0002 as stored
// (what the integrity record's DF32 digests), once the file has the shape
// VerifyText requires, offset table included.
func BasicFactsFields(ef []byte) ([]byte, error) {
	attrs, err := attributeObjects(ef)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, f := range attrs {
		out = append(out, f.Raw...)
	}
	return out, nil
}

// BasicFacts are the four basic facts (基本4情報) as the text applet's
// EF 0002 holds them.
type BasicFacts struct {
	Name, Address string
	BirthDate     myna.Date // zero when it did not parse
	Sex           Sex
}

// ParseBasicFacts decodes DF22 (name) ‖ DF23 (address) ‖ DF24 (birth date,
// YYYYMMDD) ‖ DF25 (sex, one JIS X 0303 digit), in that order and nothing
// else: EF 0002 without its FF20 wrapper and DF21 offset table, as a QR
// code carries it. The checks are the text applet's (docs/card.md §2.2):
// UTF-8 with no control or bidi characters, a calendar date, a sex digit.
// The error names every problem; the facts are returned as far as they
// decode even then.
func ParseBasicFacts(b []byte) (BasicFacts, error) {
	objs, err := tlv.ParseAll(b)
	if err != nil || len(objs) != 4 {
		return BasicFacts{}, fmt.Errorf("want exactly DF22, DF23, DF24 and DF25")
	}
	for i, tag := range []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25} {
		if objs[i].Tag != tag {
			return BasicFacts{}, fmt.Errorf("want exactly DF22, DF23, DF24 and DF25")
		}
	}
	return basicFacts([4]tlv.TLV(objs))
}

func basicFacts(f [4]tlv.TLV) (BasicFacts, error) {
	facts := BasicFacts{Name: string(f[0].Value), Address: string(f[1].Value)}
	var problems []string
	if err := checkText(f[0].Value); err != nil {
		problems = append(problems, "name "+err.Error())
	}
	if err := checkText(f[1].Value); err != nil {
		problems = append(problems, "address "+err.Error())
	}
	if d, err := ParseDate(f[2].Value); err != nil {
		problems = append(problems, "birth date "+err.Error())
	} else {
		facts.BirthDate = d
	}
	if s, ok := parseSexDigit(f[3].Value); !ok {
		problems = append(problems, "sex is not one JIS X 0303 digit")
	} else {
		facts.Sex = s
	}
	if len(problems) > 0 {
		return facts, fmt.Errorf("%s", joinProblems(problems))
	}
	return facts, nil
}

func parseIntegrity(b []byte, f *textFields) error {
	r, err := ParseIntegrityRecord(b)
	if err != nil {
		return err
	}
	f.digestMyNo, f.digestAttr, f.signature, f.signedPart = r.MyNumberDigest, r.AttributesDigest, r.Signature, r.Signed
	f.haveInteg = true
	return nil
}

// IntegrityRecord is the text applet's EF 0003 (docs/card.md §5.6):
// FF30 { DF31 SHA-256 of EF 0001 ; DF32 SHA-256 of the basic facts ;
// DF33 the signature over DF31 TLV ‖ DF32 TLV }.
type IntegrityRecord struct {
	MyNumberDigest   []byte // DF31, 32 bytes
	AttributesDigest []byte // DF32, 32 bytes
	Signature        []byte // DF33, 256 bytes
	Signed           []byte // DF31 TLV ‖ DF32 TLV, as stored
}

// ParseIntegrityRecord checks the shape of EF 0003: the three objects in
// order, 32-byte digests and a 256-byte signature. Whether the signature
// verifies is VerifyText's to say.
func ParseIntegrityRecord(b []byte) (*IntegrityRecord, error) {
	integ, _, err := tlv.Parse(b)
	if err != nil || integ.Tag != 0xFF30 {
		return nil, fmt.Errorf("want an FF30 object")
	}
	ik, err := integ.Children()
	if err != nil || len(ik) != 3 || ik[0].Tag != 0xDF31 || ik[1].Tag != 0xDF32 || ik[2].Tag != 0xDF33 {
		return nil, fmt.Errorf("want DF31, DF32 and DF33")
	}
	if len(ik[0].Value) != 32 || len(ik[1].Value) != 32 {
		return nil, fmt.Errorf("digests must be 32 bytes each")
	}
	if len(ik[2].Value) != 256 {
		return nil, fmt.Errorf("signature must be 256 bytes")
	}
	return &IntegrityRecord{MyNumberDigest: ik[0].Value, AttributesDigest: ik[1].Value, Signature: ik[2].Value,
		Signed: append(append([]byte(nil), ik[0].Raw...), ik[1].Raw...)}, nil
}

func parseSignedKey(b []byte, f *textFields) error {
	rec, _, err := tlv.Parse(b)
	if err != nil || rec.Tag != 0xFF50 {
		return fmt.Errorf("want an FF50 object")
	}
	kk, err := rec.Children()
	if err != nil || len(kk) != 2 || kk[0].Tag != 0xDF51 || kk[1].Tag != 0xDF52 {
		return fmt.Errorf("want DF51 and DF52")
	}
	if _, err := ParseRSAPublicKey(kk[0].Value); err != nil {
		return err
	}
	f.keyTLV, f.keySig, f.haveKey = kk[0], kk[1].Value, true
	return nil
}

// VerifySignedKey checks EF 0007 against the applet's CV certificate
// (cvCheck is the certificate's own check) and returns the card key when
// the J-LIS signature over it verifies.
func VerifySignedKey(b []byte, cv *CVCertificate, cvCheck trust.Check) (*rsa.PublicKey, trust.Check) {
	var f textFields
	ch := trust.Check{Name: trust.CheckTextSignedKey}
	if err := parseSignedKey(b, &f); err != nil || cv == nil {
		return nil, failed(ch, cvCheck, "applet card key (EF 0007) missing or malformed")
	}
	ch = cv.CheckRecord(trust.CheckTextSignedKey, cvCheck, f.keyTLV.Raw, f.keySig, "applet card key (EF 0007)")
	if ch.Result == trust.Fail {
		return nil, ch
	}
	key, _ := ParseRSAPublicKey(f.keyTLV.Value)
	return key, ch
}

// VerifiedMyNumber returns the My Number when it may be presented to the
// card as 照合番号A: its check digit is right, and the 個人番号 file matches
// an integrity record whose signature verifies under the applet's own CV
// certificate. A code the data already shows wrong is never sent to the
// card (a wrong 照合番号A spends a try).
func (t *Text) VerifiedMyNumber() (string, bool) {
	if !t.myNumberOK {
		return "", false
	}
	return t.MyNumber.Reveal(), true
}

// VerifiedBirthDate returns the birth date when it matches a signed record,
// for deriving the card face's birth key.
func (t *Text) VerifiedBirthDate() (myna.Date, bool) { return t.BirthDate, t.birthDateOK }

// VerifiedBirthKey is the card face's 生年月日 key (the birth date as
// Japanese-era YYMMDD, docs/card.md §3.6) when the birth date matches a
// signed record.
func (t *Text) VerifiedBirthKey() (string, bool) {
	if !t.birthDateOK {
		return "", false
	}
	k, err := myna.EraYYMMDD(t.BirthDate.Time())
	return k, err == nil
}

// CardKey is the applet's card key from EF 0007 when its signature
// verified, for a presence proof on the text applet; nil otherwise.
func (t *Text) CardKey() *rsa.PublicKey { return t.cardKey }

// CV is the applet's card-verifiable certificate (nil when malformed).
func (t *Text) CV() *CVCertificate { return t.cv }
