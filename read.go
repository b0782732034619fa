package mynakit

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/face"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

// Part is a part of the card a read covers.
type Part string

const (
	PartText    Part = "text"    // 券面事項入力補助AP: My Number, name, address, birth date, sex
	PartSurface Part = "surface" // 券面事項確認AP: the card face and photo
	PartCommon  Part = "common"  // 共通AP: serial, municipality, expiry (unsigned)
	PartJPKI    Part = "jpki"    // 公的個人認証AP: the user-authentication certificate
)

// AllParts lists every part, in the order a read visits them.
func AllParts() []Part { return []Part{PartText, PartSurface, PartCommon, PartJPKI} }

// ParseParts reads a comma-separated list of parts ("text,surface").
func ParseParts(s string) ([]Part, error) {
	if strings.TrimSpace(s) == "" {
		return AllParts(), nil
	}
	var out []Part
	for _, f := range strings.Split(s, ",") {
		p := Part(strings.TrimSpace(f))
		switch p {
		case PartText, PartSurface, PartCommon, PartJPKI:
			out = append(out, p)
		default:
			return nil, fmt.Errorf("unknown part %q (want text, surface, common, jpki)", f)
		}
	}
	return out, nil
}

// ReadOptions says what to read and how hard to check it.
type ReadOptions struct {
	// Parts to read; nil reads every part.
	Parts []Part
	// Thorough makes every check the card allows, beyond what the verdict
	// rule needs: the card-level CV chain (GET DATA 00F8/7F21), the CA
	// certificates the card carries, the card face's EF 0003, the age
	// record and the 個人番号 image, and the MF-level copies of the expiry
	// and municipality code.
	Thorough bool
	// ProveJPKIKey has the user-authentication key sign a host nonce, which
	// ties the JPKI certificate to the chip. It needs the JPKI PIN (a
	// 4-digit PIN, usually the same as the text applet's). It is always
	// done on a smartphone token, whose certificate needs that PIN anyway.
	ProveJPKIKey bool
	// AgeRecord reads the card face's age-verification record (EF 0001),
	// for an age QR code (Report.QRCode). It opens with the birth key,
	// which the read derives from the verified text applet or from
	// 照合番号B.
	AgeRecord bool
	// MyNumberImage reads the card face's rendered 個人番号 (EF 0005, which
	// only 照合番号A opens).
	MyNumberImage bool
	// Photo decodes the JPEG 2000 photo into Report.Surface.PhotoImage
	// (package face; a photo that does not decode leaves it nil and says
	// why in PhotoError). A photo whose card-face signature did not verify
	// is never decoded (face.DecodeVerified).
	Photo bool
	// CRL, when set, is checked for the authentication certificate.
	CRL *x509.RevocationList
	// Progress, when set, is called as the read goes: when a step starts,
	// and when a part's facts and checks are verified (with the report so
	// far), so a counter can show the name before the photo arrives.
	Progress func(Progress)
	// Now is the time the read is judged at (zero: time.Now()).
	Now time.Time
	// Random is the source of the host's nonces (nil: crypto/rand).
	Random io.Reader
}

// Progress is one step of a read.
type Progress struct {
	Step string // what is read or proved, in words
	Part Part   // the part concerned ("" for card-wide steps)
	// Done is false when the step starts, true when its facts and checks
	// are verified; then Report holds everything verified so far.
	Done   bool
	Report *Report
}

// Read reads the parts opts names with one PIN session, verifies them and
// returns the report. The error is non-nil only when the card, the reader
// or a secret failed: bad data is a verdict, never an error.
func (c *Card) Read(ctx context.Context, opts ReadOptions) (*Report, error) {
	var r *Report
	err := c.do(ctx, func(ctx context.Context) error {
		rd := newReading(c, opts)
		r = rd.r
		before := c.card.Stats()
		err := rd.run(ctx)
		after := c.card.Stats()
		r.Stats = apdu.Stats{Commands: after.Commands - before.Commands, BytesSent: after.BytesSent - before.BytesSent, BytesReceived: after.BytesReceived - before.BytesReceived}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// reading is the state of one Read.
type reading struct {
	c    *Card
	sess *pin.Session
	opts ReadOptions
	want map[Part]bool
	now  time.Time
	r    *Report

	absent  []myna.Applet        // applets the card lacks
	visited []myna.Applet        // applets the read selected
	known   map[myna.Applet]bool // whether each applet selected is present
	phone   bool                 // a JPKI-only token

	tokenRead  bool
	learnedA   bool // 照合番号A came from the verified text applet
	codeARefus bool // the card face refused that 照合番号A
	mfExpiry   string
	mfMuni     string
}

func newReading(c *Card, opts ReadOptions) *reading {
	rd := &reading{c: c, sess: c.sess, opts: opts, want: map[Part]bool{}, known: map[myna.Applet]bool{}, now: opts.Now, r: &Report{Reader: c.reader}}
	parts := opts.Parts
	if parts == nil {
		parts = AllParts()
	}
	for _, p := range parts {
		rd.want[p] = true
	}
	if rd.now.IsZero() {
		rd.now = time.Now()
	}
	return rd
}

func (rd *reading) progress(step string, part Part, done bool) {
	if rd.opts.Progress == nil {
		return
	}
	p := Progress{Step: step, Part: part, Done: done}
	if done {
		snap := *rd.r
		snap.Checks = append([]trust.Check(nil), rd.r.Checks...)
		snap.Verdict = trust.Decide(snap.Checks)
		snap.Anchors = anchorsOf(snap.Checks)
		p.Report = &snap
	}
	rd.opts.Progress(p)
}

func (rd *reading) add(checks ...trust.Check) { rd.r.Checks = append(rd.r.Checks, checks...) }

// present selects applet a and reports whether the card has it. Only an
// answer from the card means absent; a lost command is an error. An applet
// found missing once is not selected again.
func (rd *reading) present(ctx context.Context, a myna.Applet) (bool, error) {
	if ok, seen := rd.known[a]; seen && !ok {
		return false, nil
	}
	err := rd.sess.Select(ctx, a)
	switch {
	case err == nil:
		if _, seen := rd.known[a]; !seen {
			rd.visited = append(rd.visited, a)
		}
		rd.known[a] = true
		return true, nil
	case apdu.Answered(err):
		// Not there (6A82) — or refused, which a card never does for an
		// applet it has: count it as missing. Whether that fails
		// card:applets depends on the token, read now.
		rd.visited = append(rd.visited, a)
		rd.absent = append(rd.absent, a)
		rd.known[a] = false
		if a != myna.JPKI {
			if err := rd.token(ctx); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	return false, err
}

// lacking reports whether the card lacks an applet a card has (a
// smartphone token lacks them by design): the read then asks for no
// secret.
func (rd *reading) lacking() bool { return len(rd.absent) > 0 && !rd.phone }

// plan lists the applets the read will visit, in the order it visits them:
// the text applet also when only the card face is wanted, to learn its
// 照合番号A (unless 照合番号B opens the face).
func (rd *reading) plan() []myna.Applet {
	var out []myna.Applet
	if rd.want[PartText] || rd.want[PartSurface] && !rd.c.codeBFirst {
		out = append(out, myna.Text)
	}
	for _, p := range []struct {
		part Part
		a    myna.Applet
	}{{PartSurface, myna.Surface}, {PartCommon, myna.Common}, {PartJPKI, myna.JPKI}} {
		if rd.want[p.part] {
			out = append(out, p.a)
		}
	}
	return out
}

// probe learns which applets the read visits are on the card before any
// secret is asked (a SELECT asks for none), so that a card lacking one
// fails card:applets with no prompt answered and no try spent — and a
// secret typed for one applet is never taken for another's, as a PIN
// line taken as 照合番号B when the text applet is missing. The applet
// visited first is selected last, where the read then begins: a complete
// card costs one SELECT more per other applet the read visits. A read
// that asks for no secret (the 共通AP, the JPKI certificate without its
// key proof) needs no probe.
func (rd *reading) probe(ctx context.Context) error {
	plan := rd.plan()
	secret := false
	for _, a := range plan {
		secret = secret || a == myna.Text || a == myna.Surface || a == myna.JPKI && rd.opts.ProveJPKIKey
	}
	if !secret || len(plan) < 2 {
		return nil // one applet: its own SELECT comes before its secret
	}
	rd.progress("applets on the card", "", false)
	for _, a := range slices.Concat(plan[1:], plan[:1]) {
		if _, err := rd.present(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

func (rd *reading) run(ctx context.Context) error {
	steps := []func(context.Context) error{rd.probe, rd.text, rd.surface, rd.bindCodeA, rd.common, rd.jpki, rd.chain}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	if rd.unknownCard() {
		return &UnknownCardError{ATR: rd.c.atr}
	}
	rd.finish()
	return nil
}

// unknownCard reports whether the card answered none of the applets the
// read selected, the JPKI applet among them: not a My Number Card (or one
// facing the wrong way on a dual reader), which is nothing to judge.
func (rd *reading) unknownCard() bool {
	if ok, seen := rd.known[myna.JPKI]; !seen || ok {
		return false
	}
	for _, ok := range rd.known {
		if ok {
			return false
		}
	}
	return true
}

// token reads the JPKI token label, which says whether this is a card (all
// applets expected) or a smartphone token (JPKI only). It is read once, when
// the JPKI part is read or an applet turns out to be missing — the text
// applet is read first, so the first facts reach a counter sooner.
func (rd *reading) token(ctx context.Context) error {
	if rd.tokenRead {
		return nil
	}
	rd.tokenRead = true
	rd.progress("公的個人認証AP token label", "", false)
	ok, err := rd.present(ctx, myna.JPKI)
	if err != nil {
		return err
	}
	if !ok {
		rd.add(trust.Check{Name: trust.CheckCardToken, Result: trust.Fail, Detail: "the card has no JPKI applet (公的個人認証AP)"})
		rd.r.Token = jpki.TokenUnknown
		return nil
	}
	tok, label, err := jpki.NewCard(rd.sess).Token(ctx)
	switch {
	case err == nil:
	case apdu.Answered(err):
		rd.add(trust.Check{Name: trust.CheckCardToken, Result: trust.Fail, Detail: "the token label EF 0006 cannot be read: " + err.Error()})
		rd.r.Token = jpki.TokenUnknown
		return nil
	default:
		return err
	}
	rd.r.Token, rd.r.TokenLabel = tok, label
	switch tok {
	case jpki.TokenCard:
		rd.add(trust.Check{Name: trust.CheckCardToken, Result: trust.Pass, Detail: "token label " + label + ": an Individual Number Card"})
	case jpki.TokenAndroid, jpki.TokenIPhone, jpki.TokenJuki:
		rd.phone = true
		rd.add(trust.Check{Name: trust.CheckCardToken, Result: trust.Pass, Detail: "token label " + label + ": a token with the JPKI applet only"})
	default:
		rd.add(trust.Check{Name: trust.CheckCardToken, Result: trust.Fail, Detail: fmt.Sprintf("token label %q is none the card reference lists", printable(label))})
	}
	return nil
}

// text reads the 券面事項入力補助AP when it is wanted, or when the card face
// is wanted and its 照合番号A (the My Number) must come from here. When its
// facts are shown, the applet proves its own presence (presence:text):
// the key of its EF 0007, which J-LIS's signature under the applet's CV
// certificate vouches for, signs SHA-256(R ‖ N) over the card's challenge
// R and the host's fresh nonce N (docs/card.md §5.8, §5.9). Nothing else
// ties the text data to the chip in the reader: the card face accepting
// its My Number as 照合番号A is a status word, which a shim answers at will.
func (rd *reading) text(ctx context.Context) error {
	codeB := rd.c.codeBFirst
	deriveOnly := !rd.want[PartText] && rd.want[PartSurface] && !codeB
	age := rd.opts.Thorough || rd.opts.AgeRecord
	if rd.phone {
		return rd.phoneLacks(ctx, PartText, myna.Text)
	}
	if !rd.want[PartText] && !deriveOnly || rd.lacking() {
		return nil
	}
	rd.progress("券面事項入力補助AP (text)", PartText, false)
	ok, err := rd.present(ctx, myna.Text)
	if err != nil || !ok {
		return err
	}
	opts := cardap.TextOptions{Attributes: !deriveOnly || age, MyNumber: true, SignedKey: !deriveOnly, CVCache: rd.c.cvCache}
	raw, err := cardap.ReadText(ctx, rd.sess, opts)
	if err != nil {
		if deriveOnly && pin.Unavailable(err) {
			return nil // no PIN to be had: the card face asks for 照合番号B
		}
		return err
	}
	t, checks, err := cardap.VerifyTextCached(ctx, rd.sess, raw, rd.c.store, rd.c.cvCache)
	if err != nil {
		return err
	}
	rd.remember(checks, trust.CheckTextCV, t.CV())
	if mn, ok := t.VerifiedMyNumber(); ok {
		rd.learnedA = rd.sess.Learn(myna.CodeA, []byte(mn))
	}
	if k, ok := t.VerifiedBirthKey(); ok && age {
		rd.sess.Learn(myna.BirthKey, []byte(k))
	}
	if deriveOnly {
		return nil // read only to learn 照合番号A; the text part is not shown
	}
	// The proof runs while the applet is still selected and open: EF 0007
	// was read with the other files, so it costs a challenge and a
	// signature, and the text facts leave with their own proof.
	rd.progress("card-presence proof (券面事項入力補助AP)", PartText, false)
	signed, _ := findCheck(checks, trust.CheckTextSignedKey)
	proof, _, err := cardap.ProvePresence(ctx, rd.sess, myna.Text, trust.CheckPresenceText, t.CardKey(), signed, rd.opts.Random)
	if err != nil {
		return err
	}
	checks = append(checks, proof)
	rd.r.text = t
	rd.r.Text = &TextPart{MyNumber: t.MyNumber, Name: t.Name, Address: t.Address, BirthDate: t.BirthDate, Sex: t.Sex}
	rd.add(checks...)
	rd.progress("券面事項入力補助AP (text)", PartText, true)
	return nil
}

// remember adds a CV certificate that passed its check to the cache.
func (rd *reading) remember(checks []trust.Check, name trust.CheckName, cv *cardap.CVCertificate) {
	if rd.c.cvCache == nil {
		return
	}
	if c, ok := findCheck(checks, name); ok && c.Result == trust.Pass {
		_ = rd.c.cvCache.Add(cv) // a cache that cannot be written is only slower
	}
}

// phoneLacks notes, for a smartphone token, that a wanted part's applet is
// absent (such a token has only the JPKI applet; not a failure).
func (rd *reading) phoneLacks(ctx context.Context, p Part, a myna.Applet) error {
	if !rd.want[p] {
		return nil
	}
	_, err := rd.present(ctx, a)
	return err
}

// surface reads the card face and proves the chip's presence with its key.
func (rd *reading) surface(ctx context.Context) error {
	if rd.phone {
		return rd.phoneLacks(ctx, PartSurface, myna.Surface)
	}
	if !rd.want[PartSurface] || rd.lacking() {
		return nil
	}
	if rd.r.Text != nil && !rd.learnedA && !rd.c.codeBFirst && trust.Decide(rd.r.Checks) == trust.NotGenuine {
		// The text applet's My Number did not verify, so it is not sent to
		// the card face as 照合番号A; the card is already not genuine, and
		// the holder is not asked for another secret to read more of it.
		return nil
	}
	rd.progress("券面事項確認AP (card face)", PartSurface, false)
	ok, err := rd.present(ctx, myna.Surface)
	if err != nil || !ok {
		return err
	}
	opts := cardap.SurfaceOptions{AgeRecord: rd.opts.AgeRecord, MyNumberImage: rd.opts.MyNumberImage && rd.sess.Holds(myna.CodeA), CVCache: rd.c.cvCache}
	if rd.opts.Thorough {
		opts.BasicInfo = true
		opts.AgeRecord = opts.AgeRecord || rd.sess.Holds(myna.BirthKey) || rd.sess.Holds(myna.CodeB)
		opts.MyNumberImage = rd.sess.Holds(myna.CodeA)
	}
	raw, err := cardap.ReadSurface(ctx, rd.sess, opts)
	var wrong *pin.WrongSecretError
	if errors.As(err, &wrong) && wrong.Key.Name == myna.KeySurfaceCodeA && rd.learnedA {
		// The chip refused the My Number its own signed text applet holds:
		// the text data is not this card's.
		rd.codeARefus = true
		return nil
	}
	if err != nil {
		return err
	}
	s, checks, err := cardap.VerifySurfaceCached(ctx, rd.sess, raw, rd.c.store, rd.c.cvCache)
	if err != nil {
		return err
	}
	rd.remember(checks, trust.CheckSurfaceCV, s.CV())
	rd.r.surface = s
	rd.r.Surface = &SurfacePart{
		BirthDate: s.BirthDate, Sex: s.Sex, Photo: s.Photo, NameImage: s.NameImage, AddressImage: s.AddressImage,
		AgeBirthDate: s.AgeBirthDate, MyNumberImage: s.MyNumberImage,
		ExpiryDate: s.ExpiryDate, MunicipalityCode: s.MunicipalityCode, SecurityCodeImage: s.SecurityCodeImage,
	}
	if rd.opts.Photo && s.Photo != nil {
		// Only a photo the card-face signature covers is decoded.
		if img, err := face.DecodeVerified(s.Photo, checks); err != nil {
			rd.r.Surface.PhotoError = err.Error()
		} else {
			rd.r.Surface.PhotoImage = img
		}
	}
	rd.add(checks...)
	face, _ := findCheck(checks, trust.CheckSurfaceFace)
	rd.progress("card-presence proof (券面事項確認AP)", PartSurface, false)
	proof, _, err := cardap.ProvePresence(ctx, rd.sess, myna.Surface, trust.CheckPresenceSurface, s.CardKey(), face, rd.opts.Random)
	if err != nil {
		return err
	}
	rd.add(proof)
	rd.progress("券面事項確認AP (card face)", PartSurface, true)
	return nil
}

// bindCodeA reports what the card face answered to the text applet's My
// Number as 照合番号A, the code that opens the face. It is not what ties the
// text data to the chip — a status word is never evidence, and a shim in
// front of one genuine card answers 90 00 for another person's text data —
// so it passes only beside a passing presence proof of the card face, and
// presence:text stays required. A refusal fails: the text data is not this
// card face's.
func (rd *reading) bindCodeA(context.Context) error {
	if rd.r.Text == nil {
		return nil
	}
	bind := trust.Check{Name: trust.CheckBindingCodeA}
	switch {
	case rd.codeARefus:
		bind.Result, bind.Detail = trust.Fail, "the card face refused the text applet's My Number as 照合番号A: the text data is not this card face's"
	case rd.r.Surface != nil && rd.learnedA && slices.Contains(rd.sess.Verified(myna.Surface), myna.KeySurfaceCodeA):
		proof, _ := findCheck(rd.r.Checks, trust.CheckPresenceSurface)
		bind.Anchor, bind.Production = proof.Anchor, proof.Production
		switch proof.Result {
		case trust.Pass:
			bind.Result, bind.Detail = trust.Pass, "the card face, which proved its presence, answered 90 00 to the text applet's My Number as 照合番号A (a status word: reported, not evidence; presence:text ties the text data)"
		case trust.Unknown:
			bind.Result, bind.Detail = trust.Unknown, "the card face answered 90 00 to the My Number as 照合番号A, but its presence proof is unknown"
		default:
			bind.Result, bind.Detail = trust.Fail, "the card face answered 90 00 to the My Number as 照合番号A, but did not prove its presence"
		}
	default:
		return nil // the card face was not read, or 照合番号B opened it
	}
	rd.add(bind)
	return nil
}

// common reads the 共通AP record (unsigned).
func (rd *reading) common(ctx context.Context) error {
	if rd.phone {
		return rd.phoneLacks(ctx, PartCommon, myna.Common)
	}
	if !rd.want[PartCommon] {
		return nil
	}
	rd.progress("共通AP (card information)", PartCommon, false)
	ok, err := rd.present(ctx, myna.Common)
	if err != nil || !ok {
		return err
	}
	rec, fault, err := cardap.ReadCommon(ctx, rd.sess)
	if err != nil {
		return err
	}
	ch := trust.Check{Name: trust.CheckCommonFormat, Result: trust.Pass, Detail: "card-information record laid out as the card reference describes (unsigned)"}
	if fault != nil {
		ch.Result, ch.Detail = trust.Fail, fault.String()
	} else if cm, err := cardap.ParseCommon(rec); err != nil {
		ch.Result, ch.Detail = trust.Fail, err.Error()
	} else {
		rd.r.Common = &CommonPart{Serial: cm.Serial, MunicipalityCode: cm.MunicipalityCode, ExpiryDate: cm.ExpiryDate}
	}
	rd.add(ch)
	rd.progress("共通AP (card information)", PartCommon, true)
	return nil
}

// jpki reads the user-authentication certificate and, when the PIN is
// given, proves the chip holds its key.
func (rd *reading) jpki(ctx context.Context) error {
	if !rd.want[PartJPKI] {
		return nil
	}
	if err := rd.token(ctx); err != nil {
		return err
	}
	if slices.Contains(rd.absent, myna.JPKI) {
		return nil
	}
	rd.progress("公的個人認証AP (JPKI)", PartJPKI, false)
	jc := jpki.NewCard(rd.sess)
	cert, err := jc.AuthCertificate(ctx)
	if err != nil {
		if apdu.Answered(err) {
			rd.add(trust.Check{Name: trust.CheckJPKIFormat, Result: trust.Fail, Detail: "user-authentication certificate: " + err.Error()})
			return nil
		}
		return err
	}
	part := &JPKIPart{AuthCertificate: cert}
	rd.r.JPKI = part
	certCheck := rd.c.store.VerifyCertificate(cert, trust.CertOptions{Name: trust.CheckAuthCert, At: rd.now, Now: rd.now, CRL: rd.opts.CRL})
	part.CertificateCheck = certCheck
	rd.add(certCheck)
	if rd.opts.Thorough {
		if part.AuthCA, err = jc.AuthCACertificate(ctx); err == nil {
			rd.add(rd.c.store.CompareCardCA(trust.CheckAuthCACert, part.AuthCA, cert))
		} else if apdu.Answered(err) {
			rd.add(trust.Check{Name: trust.CheckAuthCACert, Result: trust.Fail, Detail: err.Error()})
		} else {
			return err
		}
		if part.SignCA, err = jc.SignCACertificate(ctx); err == nil {
			rd.add(rd.c.store.CompareCardCA(trust.CheckSignCACert, part.SignCA, nil))
		} else if errors.Is(err, apdu.ErrFileNotFound) && rd.phone {
			// A smartphone token without the signing certificate's CA.
		} else if apdu.Answered(err) {
			rd.add(trust.Check{Name: trust.CheckSignCACert, Result: trust.Fail, Detail: err.Error()})
		} else {
			return err
		}
	}
	if (rd.opts.ProveJPKIKey || rd.phone) && !rd.lacking() {
		rd.progress("key proof (利用者証明用電子証明書)", PartJPKI, false)
		proof, err := jc.ProveAuthKey(ctx, cert, certCheck, rd.opts.Random)
		if err != nil {
			return err
		}
		rd.add(proof)
		part.KeyProven = proof.Result == trust.Pass
	}
	rd.progress("公的個人認証AP (JPKI)", PartJPKI, true)
	return nil
}

// chain reads the card-level CV chain and the MF copies of the expiry and
// municipality (thorough reads only: no fact shown rests on them).
func (rd *reading) chain(ctx context.Context) error {
	if !rd.opts.Thorough || rd.phone || (rd.r.Text == nil && rd.r.Surface == nil) {
		return nil
	}
	rd.progress("card-level CV chain", "", false)
	raw, err := cardap.ReadCardChain(ctx, rd.sess)
	if err != nil {
		return err
	}
	rd.add(cardap.VerifyCardChain(*raw, rd.c.store)...)
	rd.mfExpiry, rd.mfMuni = string(raw.Expiry), string(raw.Municipality)
	return nil
}

// finish adds the checks over the whole read and the verdict.
func (rd *reading) finish() {
	r := rd.r
	// A card has every applet the read visited; a smartphone token lists
	// what it lacks.
	if rd.phone {
		r.Missing = rd.absent
	} else if (r.Token == jpki.TokenCard || !rd.tokenRead) && len(rd.visited) > 1 {
		ch := trust.Check{Name: trust.CheckCardApplets, Result: trust.Pass, Detail: "the card has every applet the read visited"}
		if len(rd.absent) > 0 {
			var names []string
			for _, a := range rd.absent {
				names = append(names, a.JapaneseName()+" ("+a.Name()+")")
			}
			ch.Result, ch.Detail = trust.Fail, "the token says it is a card, but the card lacks "+strings.Join(names, ", ")
		}
		rd.add(ch)
	}
	// The card's expiry a clerk checks: the card face's copy, else the
	// 共通AP record's (both unsigned).
	if r.Surface != nil && !r.Surface.ExpiryDate.IsZero() {
		r.Expiry.Card = r.Surface.ExpiryDate
	} else if r.Common != nil {
		r.Expiry.Card = r.Common.ExpiryDate
	}
	r.Expiry.CardExpired = !r.Expiry.Card.IsZero() && expiredOn(r.Expiry.Card, rd.now)
	rd.consistency()
	// Each applet whose facts are shown proves its own presence.
	for _, p := range []struct {
		shown bool
		name  trust.CheckName
		what  string
	}{{r.Text != nil, trust.CheckPresenceText, "the text applet"}, {r.Surface != nil, trust.CheckPresenceSurface, "the card face"}} {
		if _, ok := findCheck(r.Checks, p.name); p.shown && !ok {
			rd.add(trust.Check{Name: p.name, Result: trust.Fail, Detail: p.what + " did not prove its presence"})
		}
	}
	// Something shown must be tied to the chip.
	tied := false
	for _, c := range r.Checks {
		if strings.HasPrefix(string(c.Name), "presence:") {
			tied = true
		}
	}
	if !tied {
		name, detail := trust.CheckCardPresence, "nothing read is tied to the chip in the reader"
		if r.JPKI != nil {
			name, detail = trust.CheckPresenceJPKI, unprovenDetail(r.JPKI.CertificateCheck, "a certificate is public; give the JPKI PIN (prove the key) to tie it to the chip")
		}
		rd.add(trust.Check{Name: name, Result: trust.Unknown, Detail: detail})
	}
	if r.JPKI != nil {
		r.Expiry.AuthCertificate = r.JPKI.AuthCertificate.NotAfter
		r.Expiry.CertificateExpired = rd.now.After(r.JPKI.AuthCertificate.NotAfter)
		if c, ok := findCheck(r.Checks, trust.CheckAuthCert); ok {
			r.Expiry.Revoked = c.Revoked
		}
	}
	r.Verdict = trust.Decide(r.Checks)
	r.Anchors = anchorsOf(r.Checks)
}

// consistency compares the copies of one fact the card holds more than
// once.
//
// What the two card-surface applets' signed data can compare is the birth
// date and the sex (and the age record's birth date, when read): the text
// applet's name and address are text, the card face's are images. The
// municipality in the CV certificates' holder references is not compared:
// docs/card.md records one holder reference, the card face's on the
// test card (1322121/000, whose first five digits are the issuer's code,
// §5.4), and none for the text applet's certificate. A rule drawn from one
// sample of one applet would fail genuine cards if the text applet's holder
// reference is laid out otherwise, and the presence proofs already tie each
// applet's data to the chip in the reader.
func (rd *reading) consistency() {
	r := rd.r
	type copyOf struct{ where, value string }
	compare := func(name trust.CheckName, what string, copies []copyOf, signed bool) *trust.Check {
		var have []copyOf
		for _, c := range copies {
			if c.value != "" {
				have = append(have, c)
			}
		}
		if len(have) < 2 {
			return nil
		}
		var where []string
		for _, c := range have {
			where = append(where, c.where)
			if c.value != have[0].value {
				ch := trust.Check{Name: name, Result: trust.Fail, Detail: fmt.Sprintf("%s differs between %s and %s", what, have[0].where, c.where)}
				return &ch
			}
		}
		kind := "unsigned copies"
		if signed {
			kind = "signed copies"
		}
		ch := trust.Check{Name: name, Result: trust.Pass, Detail: fmt.Sprintf("%s agrees in %d %s (%s)", what, len(have), kind, strings.Join(where, ", "))}
		return &ch
	}
	var text, face, age, faceSex, textSex, faceExp, commonExp, faceMuni, commonMuni string
	if r.Text != nil {
		text = r.Text.BirthDate.String()
		if !r.Text.BirthDate.IsZero() {
			textSex = string(r.Text.Sex)
		}
	}
	if r.Surface != nil {
		face, age, faceExp, faceMuni = r.Surface.BirthDate.String(), r.Surface.AgeBirthDate.String(), r.Surface.ExpiryDate.String(), r.Surface.MunicipalityCode
		if !r.Surface.BirthDate.IsZero() {
			faceSex = string(r.Surface.Sex)
		}
	}
	if r.Common != nil {
		commonExp, commonMuni = r.Common.ExpiryDate.String(), r.Common.MunicipalityCode
	}
	mfExp := ""
	if rd.mfExpiry != "" {
		if d, err := cardap.ParseDate([]byte(rd.mfExpiry)); err != nil {
			mfExp = "malformed"
		} else {
			mfExp = d.String()
		}
	}
	for _, ch := range []*trust.Check{
		compare(trust.CheckBirthDate, "the birth date", []copyOf{{"the text applet", text}, {"the card face", face}, {"the age record", age}}, true),
		compare(trust.CheckSex, "the sex", []copyOf{{"the text applet", textSex}, {"the card face", faceSex}}, true),
		compare(trust.CheckMunicipality, "the municipality code", []copyOf{{"the 共通AP record", commonMuni}, {"the card face's EF 0003", faceMuni}, {"GET DATA 00F0", rd.mfMuni}}, false),
	} {
		if ch != nil {
			rd.add(*ch)
		}
	}
	// The expiry is unsigned everywhere; one copy still says whether the
	// card has expired.
	exp := compare(trust.CheckExpiry, "the card expiry", []copyOf{{"the card face", faceExp}, {"the 共通AP record", commonExp}, {"GET DATA 00F2", mfExp}}, false)
	if exp == nil {
		for _, v := range []string{faceExp, commonExp} {
			if v != "" {
				exp = &trust.Check{Name: trust.CheckExpiry, Result: trust.Pass, Detail: "the card expiry (unsigned) was read once"}
				break
			}
		}
	}
	if exp != nil {
		if exp.Result == trust.Pass && r.Expiry.CardExpired {
			exp.Expired = true
			exp.Detail += "; the card expired on " + r.Expiry.Card.String()
		}
		rd.add(*exp)
	}
}

// expiredOn reports whether a card expiring on last (its last valid day)
// has expired at now, in Japan's time zone (the card's dates are Japanese
// calendar days).
func expiredOn(last myna.Date, now time.Time) bool {
	return !now.Before(last.In(time.FixedZone("JST", 9*3600)).AddDate(0, 0, 1))
}

// printable keeps a card-supplied label safe to show: non-printable bytes
// become dots.
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7E {
			b[i] = '.'
		}
	}
	return string(b)
}
