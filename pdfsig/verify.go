package pdfsig

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/trust"
)

// Check names of PDF signatures (beside trust's cms:signature,
// cms:timestamp and x509:sign-certificate).
const (
	CheckDictionary   trust.CheckName = "pdf:signature-dictionary" // a /Sig in the file body, /Contents a hex string
	CheckByteRange    trust.CheckName = "pdf:byte-range"           // from 0, hole = /Contents, ends at a revision's end
	CheckLaterChanges trust.CheckName = "pdf:later-changes"        // later revisions change only what is permitted
	CheckTrailingData trust.CheckName = "pdf:trailing-data"        // nothing after the last %%EOF
	CheckSignatures   trust.CheckName = "pdf:signatures"           // the file has a signature, and none an earlier revision had was removed
	CheckDigest       trust.CheckName = "cms:message-digest"       // the signed digest is the byte ranges'
	CheckSigner       trust.CheckName = "cms:signer"               // the signer's certificate is in the CMS
	CheckSigningCert  trust.CheckName = "cms:signing-certificate"  // ESS signing-certificate(-v2) names it
)

// maxSignatures bounds the signatures verified in one file (each one
// re-reads the revision it covers).
const maxSignatures = 100

// VerifyOptions says what signatures are judged against.
type VerifyOptions struct {
	// Store holds the anchors (see mynakit.NewTrustStore).
	Store *trust.Store
	// CRL, when set, is checked for each signer's certificate.
	CRL *x509.RevocationList
	// TSARoots are the time-stamping authorities whose timestamps may set
	// the time a certificate is judged at.
	TSARoots []*x509.Certificate
	// Now is the current time (zero: time.Now()).
	Now time.Time
}

// SignatureResult is one signature of the file.
type SignatureResult struct {
	Field     string `json:"field,omitempty"`
	Object    int    `json:"object"`
	SubFilter string `json:"sub_filter"`
	// ByteRange as written; Covered is the bytes it covers and Revision
	// the end of the revision it signs.
	ByteRange []int64 `json:"byte_range"`
	Covered   int64   `json:"covered"`
	Revision  int64   `json:"revision_end"`
	// ClaimedTime is /M: what the signer wrote, never trusted.
	ClaimedTime   string            `json:"claimed_time,omitempty"`
	Reason        string            `json:"reason,omitempty"`
	Signer        *x509.Certificate `json:"-"`
	Timestamp     time.Time         `json:"-"`
	TimestampNote string            `json:"timestamp_ignored,omitempty"`
	JudgedAt      time.Time         `json:"-"`
	Changes       []Change          `json:"later_changes,omitempty"`
	Checks        []trust.Check     `json:"checks"`
	Verdict       trust.Verdict     `json:"verdict"`
}

// Result is a verified PDF.
type Result struct {
	Size       int64             `json:"size"`
	Revisions  []int64           `json:"revisions"`
	Signatures []SignatureResult `json:"signatures"`
	// Checks are about the file as a whole.
	Checks  []trust.Check `json:"checks"`
	Verdict trust.Verdict `json:"verdict"`
}

// Verify checks every signature dictionary in a PDF — those the form
// lists and any other /Sig in the file — and what the revisions after
// each changed. The error is non-nil only for a file that cannot be read
// as a PDF (malformed, truncated, encrypted).
func Verify(data []byte, opts VerifyOptions) (*Result, error) {
	d, err := Parse(data)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opts.Store == nil {
		opts.Store = &trust.Store{}
	}
	res := &Result{Size: int64(len(data)), Revisions: revisionEnds(data)}
	sigs, err := d.signatureObjects()
	if err != nil {
		return nil, err
	}
	if len(sigs) > maxSignatures {
		return nil, malformed("%d signature dictionaries: more than the %d verified", len(sigs), maxSignatures)
	}
	// DocMDP permissions of a certification signature.
	perm := mdp{docP: 2}
	if cat, _, err := d.Catalog(); err == nil {
		if p := d.dict(cat["Perms"]); p != nil {
			if sd := d.dict(p["DocMDP"]); sd != nil {
				perm.docP = transformP(d, sd)
			}
		}
	}
	for _, s := range sigs {
		r := verifyOne(d, s, opts, now, res.Revisions, perm)
		res.Signatures = append(res.Signatures, r)
		res.Checks = append(res.Checks, r.Checks...)
	}
	slices.SortStableFunc(res.Signatures, func(a, b SignatureResult) int {
		if a.Covered != b.Covered {
			return int(a.Covered - b.Covered)
		}
		return a.Object - b.Object
	})
	var doc []trust.Check
	if len(sigs) == 0 {
		doc = append(doc, trust.Check{Name: CheckSignatures, Result: trust.Unknown, Detail: "the file has no signature"})
	}
	last := int64(0)
	if n := len(res.Revisions); n > 0 {
		last = res.Revisions[n-1]
	}
	if t := bytes.TrimLeft(data[last:], " \t\r\n\f\x00"); len(t) > 0 && len(sigs) > 0 {
		doc = append(doc, trust.Check{Name: CheckTrailingData, Result: trust.Fail,
			Detail: fmt.Sprintf("%d bytes after the last %%%%EOF that no revision and no signature covers", len(data)-int(last))})
	}
	if removed := d.removedSignatures(sigs, res.Revisions); len(removed) > 0 {
		doc = append(doc, trust.Check{Name: CheckSignatures, Result: trust.Fail,
			Detail: "a later revision removed signatures an earlier revision had: " + strings.Join(removed, "; ")})
	}
	res.Checks = append(doc, res.Checks...)
	res.Verdict = trust.Decide(res.Checks)
	for i := range res.Signatures {
		res.Signatures[i].Checks = append(append([]trust.Check(nil), doc...), res.Signatures[i].Checks...)
		res.Signatures[i].Verdict = trust.Decide(res.Signatures[i].Checks)
	}
	return res, nil
}

// removedSignatures lists the signatures an earlier revision's form held
// that the file no longer has (a signature stripped by an update, or
// cleared). Only the last 64 revisions are read.
func (d *Document) removedSignatures(sigs []sigObject, ends []int64) []string {
	known := map[int64]bool{}
	for _, s := range sigs {
		if c, ok := s.dict["Contents"].(String); ok {
			known[c.Pos] = true
		}
	}
	var out []string
	for i := max(0, len(ends)-65); i < len(ends)-1; i++ {
		old, err := Parse(d.Data[:ends[i]])
		if err != nil {
			continue
		}
		os, err := old.signatureObjectsInForm()
		if err != nil {
			continue
		}
		for _, s := range os {
			c, ok := s.dict["Contents"].(String)
			if ok && c.Pos >= 0 && !known[c.Pos] {
				known[c.Pos] = true
				out = append(out, fmt.Sprintf("field %q signed in the revision ending at %d", s.field, ends[i]))
			}
		}
	}
	return out
}

type sigObject struct {
	ref   Ref
	dict  Dict
	field string
	lock  Dict
}

// signatureObjects finds every signature dictionary: the values of the
// form's signature fields, then every other object of the file that looks
// like one (a /Type /Sig or /DocTimeStamp, or a /ByteRange with
// /Contents), so a dictionary no field lists is judged too.
func (d *Document) signatureObjects() ([]sigObject, error) {
	out, err := d.signatureObjectsInForm()
	if err != nil {
		return nil, err
	}
	seen := map[int]bool{}
	for _, s := range out {
		seen[s.ref.Num] = true
	}
	return d.otherSignatureObjects(out, seen)
}

// signatureObjectsInForm: the values of the form's signature fields.
func (d *Document) signatureObjectsInForm() ([]sigObject, error) {
	var out []sigObject
	seen := map[int]bool{}
	if cat, _, err := d.Catalog(); err == nil {
		if af := d.dict(cat["AcroForm"]); af != nil {
			fields, _ := d.get(af["Fields"]).(Array)
			refs, _ := d.findFields(fields)
			keys := make([]string, 0, len(refs))
			for k := range refs {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, name := range keys {
				f := d.dict(refs[name])
				if f == nil || inheritedFT(d, f) != "Sig" {
					continue
				}
				vr, ok := f["V"].(Ref)
				if !ok || seen[vr.Num] {
					continue
				}
				v, err := d.Resolve(vr)
				if err != nil {
					return nil, err
				}
				if vd, ok := v.(Dict); ok {
					seen[vr.Num] = true
					lock, _ := d.get(f["Lock"]).(Dict)
					out = append(out, sigObject{ref: vr, dict: vd, field: name, lock: lock})
				}
			}
		}
	}
	return out, nil
}

// otherSignatureObjects adds every other object that looks like a
// signature dictionary.
func (d *Document) otherSignatureObjects(out []sigObject, seen map[int]bool) ([]sigObject, error) {
	nums := make([]int, 0, len(d.xref))
	for n, e := range d.xref {
		if e.kind != 0 && !seen[n] {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	for _, n := range nums {
		e := d.xref[n]
		r := Ref{n, 0}
		if e.kind == 1 {
			r.Gen = e.gen
		}
		o, err := d.Resolve(r)
		if err != nil {
			continue // an unreadable object is judged where it is used
		}
		dict, ok := o.(Dict)
		if !ok {
			continue
		}
		_, hasBR := dict["ByteRange"]
		_, hasC := dict["Contents"]
		if t := dict.Name("Type"); t == "Sig" || t == "DocTimeStamp" || hasBR && hasC {
			out = append(out, sigObject{ref: r, dict: dict})
		}
	}
	return out, nil
}

func transformP(d *Document, sig Dict) int64 {
	refs, _ := d.get(sig["Reference"]).(Array)
	for _, x := range refs {
		r := d.dict(x)
		if r.Name("TransformMethod") != "DocMDP" {
			continue
		}
		if p, ok := asInt(d.dict(r["TransformParams"])["P"]); ok && p >= 1 && p <= 3 {
			return p
		}
		return 2
	}
	return 2
}

// lockFunc is the FieldMDP lock of a signature field (/Lock).
func lockFunc(d *Document, lock Dict) func(string) bool {
	if lock == nil {
		return nil
	}
	fields, _ := d.get(lock["Fields"]).(Array)
	var names []string
	for _, f := range fields {
		if s, ok := f.(String); ok {
			names = append(names, decodeText(s.B))
		}
	}
	switch lock.Name("Action") {
	case "All":
		return func(string) bool { return true }
	case "Include":
		return func(n string) bool { return slices.Contains(names, n) }
	case "Exclude":
		return func(n string) bool { return !slices.Contains(names, n) }
	}
	return nil
}

func verifyOne(d *Document, s sigObject, opts VerifyOptions, now time.Time, ends []int64, perm mdp) SignatureResult {
	r := SignatureResult{Field: s.field, Object: s.ref.Num, SubFilter: string(s.dict.Name("SubFilter")), JudgedAt: now}
	if m, ok := s.dict["M"].(String); ok {
		r.ClaimedTime = decodeText(m.B)
	}
	if m, ok := s.dict["Reason"].(String); ok {
		r.Reason = decodeText(m.B)
	}
	add := func(name trust.CheckName, res trust.Result, format string, args ...any) {
		r.Checks = append(r.Checks, trust.Check{Name: name, Result: res, Detail: fmt.Sprintf(format, args...)})
	}
	finish := func() SignatureResult {
		r.Verdict = trust.Decide(r.Checks)
		return r
	}
	data := d.Data
	size := int64(len(data))

	// The dictionary and its /Contents.
	contents, ok := s.dict["Contents"].(String)
	if d.xref[s.ref.Num].kind != 1 {
		add(CheckDictionary, trust.Fail, "signature dictionary %d is inside an object stream, so its /Contents has no place in the file", s.ref.Num)
		return finish()
	}
	if !ok || !contents.Hex || contents.Pos < 0 {
		add(CheckDictionary, trust.Fail, "signature dictionary %d has no hex-string /Contents", s.ref.Num)
		return finish()
	}
	switch r.SubFilter {
	case "ETSI.CAdES.detached", "adbe.pkcs7.detached":
		add(CheckDictionary, trust.Pass, "signature dictionary %d, /SubFilter /%s", s.ref.Num, r.SubFilter)
	default:
		add(CheckDictionary, trust.Unknown, "signature dictionary %d: /SubFilter /%s is not verified by mynakit", s.ref.Num, r.SubFilter)
		return finish()
	}

	// The byte range.
	br, _ := s.dict["ByteRange"].(Array)
	for _, x := range br {
		v, _ := asInt(x)
		r.ByteRange = append(r.ByteRange, v)
	}
	why := byteRangeProblem(r.ByteRange, len(br), contents, size, ends)
	if why != "" {
		add(CheckByteRange, trust.Fail, "%s", why)
		return finish()
	}
	a, b, c := r.ByteRange[1], r.ByteRange[2], r.ByteRange[3]
	r.Covered, r.Revision = a+c, b+c
	add(CheckByteRange, trust.Pass, "covers bytes 0-%d and %d-%d: the whole revision ending at %d except the /Contents string", a, b, b+c, b+c)

	// The CMS.
	p, err := parseCMS(contents.B, true)
	if err != nil {
		add(trust.CheckCMSSignature, trust.Fail, "/Contents: %v", err)
		return finish()
	}
	r.Checks = append(r.Checks, verifyCMS(p, r.SubFilter, data[:a], data[b:b+c])...)
	for _, ch := range r.Checks {
		if ch.Name == CheckSigner && ch.Result == trust.Pass {
			r.Signer = signerCert(p)
		}
	}
	if r.Signer == nil {
		return finish()
	}

	// The time it is judged at, the certificate and its anchor's role.
	if tok := p.unsigned[oidAttrTimeStamp.String()]; len(tok) > 0 {
		ch, t := timestampCheck(tok[0].FullBytes, p.signature, opts.TSARoots, now)
		if ch.Result == trust.Pass || ch.Result == trust.Fail {
			r.Checks = append(r.Checks, ch)
			if ch.Result == trust.Pass {
				r.Timestamp, r.JudgedAt = t, t
			}
		} else {
			r.TimestampNote = ch.Detail
		}
	}
	// The role: only a signing (署名用) root's certificates sign
	// documents, never the authentication root's.
	cc := opts.Store.VerifyCertificate(r.Signer, trust.CertOptions{
		Name: trust.CheckSignCert, At: r.JudgedAt, Now: now, NonRepudiation: true, CRL: opts.CRL, RevokedFails: true, Role: trust.CertRoleSign,
	})
	// Nothing but a trusted timestamp older than the expiry shows a
	// signature was made while its certificate was valid.
	if cc.Result == trust.Pass && cc.Expired && !cc.Revoked {
		cc.Result = trust.Fail
		if r.Timestamp.IsZero() {
			cc.Detail += "; no trusted timestamp shows the signature was made while the certificate was valid (the claimed time /M is never trusted)"
		} else {
			cc.Detail += "; the trusted timestamp is itself after the expiry"
		}
	}
	r.Checks = append(r.Checks, cc)

	// What the later revisions changed.
	if r.Revision < ends[len(ends)-1] {
		old, err := Parse(data[:r.Revision])
		if err != nil {
			add(CheckLaterChanges, trust.Fail, "the signed revision does not parse on its own: %v", err)
			return finish()
		}
		pm := perm
		pm.locked = lockFunc(d, s.lock)
		r.Changes = changes(old, d, pm)
		attributeChanges(data, old, r.Revision, ends, r.Changes)
		var bad []string
		for _, ch := range r.Changes {
			if !ch.Allowed {
				bad = append(bad, ch.What)
			}
		}
		if len(bad) > 0 {
			add(CheckLaterChanges, trust.Fail, "after this signature the document was changed in ways its permissions do not allow: %s", strings.Join(bad, "; "))
		} else {
			add(CheckLaterChanges, trust.Pass, "%d later object changes, all permitted (signatures, validation data, form fill)", len(r.Changes))
		}
	} else {
		add(CheckLaterChanges, trust.Pass, "nothing was added after this signature")
	}
	return finish()
}

// byteRangeProblem says what is wrong with a /ByteRange ("" when nothing):
// two ranges, the first from 0, the hole exactly the /Contents string
// (delimiters included), the second ending where a revision ends.
func byteRangeProblem(br []int64, n int, contents String, size int64, ends []int64) string {
	if n != 4 || len(br) != 4 {
		return fmt.Sprintf("/ByteRange has %d numbers, not 4 (two ranges)", n)
	}
	for _, v := range br {
		if v < 0 || v > size {
			return "/ByteRange has a number outside the file"
		}
	}
	a0, a, b, c := br[0], br[1], br[2], br[3]
	switch {
	case a0 != 0:
		return fmt.Sprintf("/ByteRange starts at %d, not at the start of the file", a0)
	case b < a || a != contents.Pos || b != contents.End:
		return fmt.Sprintf("/ByteRange leaves bytes %d-%d uncovered, but this signature's /Contents is at %d-%d", a, b, contents.Pos, contents.End)
	case b+c > size:
		return "/ByteRange reaches past the end of the file"
	case !slices.Contains(ends, b+c):
		return fmt.Sprintf("/ByteRange ends at %d, which is not the end of a revision (%%%%EOF)", b+c)
	}
	return ""
}

func signerCert(p *parsedCMS) *x509.Certificate {
	for _, c := range p.certs {
		if len(p.sidKeyID) > 0 && bytes.Equal(c.SubjectKeyId, p.sidKeyID) {
			return c
		}
		if p.sidSerial != nil && c.SerialNumber.Cmp(p.sidSerial) == 0 && bytes.Equal(c.RawIssuer, p.sidIssuer) {
			return c
		}
	}
	return nil
}

// verifyCMS checks the SignerInfo against the two byte ranges.
func verifyCMS(p *parsedCMS, subFilter string, r1, r2 []byte) []trust.Check {
	var out []trust.Check
	add := func(name trust.CheckName, res trust.Result, format string, args ...any) []trust.Check {
		return append(out, trust.Check{Name: name, Result: res, Detail: fmt.Sprintf(format, args...)})
	}
	if p.signers != 1 {
		return add(trust.CheckCMSSignature, trust.Fail, "the CMS has %d signers, not one", p.signers)
	}
	h, ok := hashFor(p.digestAlg)
	if !ok {
		if h == crypto.SHA1 {
			return add(CheckDigest, trust.Unknown, "the digest algorithm is SHA-1, which is no longer evidence")
		}
		return add(CheckDigest, trust.Fail, "digest algorithm %v not supported", p.digestAlg)
	}
	if p.signedAttrs == nil {
		return add(CheckDigest, trust.Fail, "the CMS has no signed attributes")
	}
	hh := h.New()
	hh.Write(r1)
	hh.Write(r2)
	sum := hh.Sum(nil)
	var md []byte
	if v := p.attrs[oidAttrMessageDigest.String()]; len(v) == 1 {
		asn1.Unmarshal(v[0].FullBytes, &md)
	}
	var ct asn1.ObjectIdentifier
	if v := p.attrs[oidAttrContentType.String()]; len(v) == 1 {
		asn1.Unmarshal(v[0].FullBytes, &ct)
	}
	switch {
	case !ct.Equal(oidData):
		out = add(CheckDigest, trust.Fail, "the content-type attribute is not id-data")
	case md == nil:
		out = add(CheckDigest, trust.Fail, "no message-digest attribute")
	case !bytes.Equal(md, sum):
		out = add(CheckDigest, trust.Fail, "the signed digest is not the byte ranges' %v digest: the signed bytes were changed", h)
	default:
		out = add(CheckDigest, trust.Pass, "%v of the byte ranges matches the signed message-digest", h)
	}
	cert := signerCert(p)
	if cert == nil {
		return add(CheckSigner, trust.Fail, "the signer's certificate (by issuer and serial, or key ID) is not in the CMS")
	}
	out = add(CheckSigner, trust.Pass, "signer found by %s", map[bool]string{true: "subject key ID", false: "issuer and serial"}[p.sidKeyID != nil])
	alg := x509Alg(p.sigAlg, h, cert.PublicKey)
	if alg == x509.UnknownSignatureAlgorithm {
		out = add(trust.CheckCMSSignature, trust.Fail, "signature algorithm %v with %v not supported", p.sigAlg, h)
	} else if err := cert.CheckSignature(alg, p.signedAttrs, p.signature); err != nil {
		out = add(trust.CheckCMSSignature, trust.Fail, "the signature over the signed attributes does not verify: %v", err)
	} else {
		out = add(trust.CheckCMSSignature, trust.Pass, "the signer's key signed the attributes")
	}
	out = append(out, signingCertCheck(p, cert, subFilter))
	return out
}

// signingCertCheck: the ESS signing-certificate-v2 (or v1) attribute names
// the signer's certificate by hash (and issuer and serial when given).
func signingCertCheck(p *parsedCMS, cert *x509.Certificate, subFilter string) trust.Check {
	c := trust.Check{Name: CheckSigningCert}
	v2 := p.attrs[oidAttrSigningCertV2.String()]
	v1 := p.attrs[oidAttrSigningCert.String()]
	if len(v2)+len(v1) == 0 {
		if subFilter == "ETSI.CAdES.detached" {
			c.Result, c.Detail = trust.Fail, "a CAdES signature without the signing-certificate-v2 attribute: the signer's certificate could be substituted"
		} else {
			c.Result, c.Detail = trust.Pass, "no signing-certificate attribute (allowed for adbe.pkcs7.detached)"
		}
		return c
	}
	var val []byte
	h := crypto.SHA1
	if len(v2) > 0 {
		val, h = v2[0].FullBytes, crypto.SHA256
	} else {
		val = v1[0].FullBytes
	}
	// SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), ... }
	outer, err := elements(val)
	if err == nil && len(outer) == 1 {
		outer, err = elements(outer[0].Bytes)
	}
	var ids []asn1.RawValue
	if err == nil && len(outer) >= 1 {
		ids, err = elements(outer[0].Bytes)
	}
	if err != nil || len(ids) == 0 {
		c.Result, c.Detail = trust.Fail, "signing-certificate attribute does not parse"
		return c
	}
	f, err := elements(ids[0].Bytes)
	if err != nil || len(f) == 0 {
		c.Result, c.Detail = trust.Fail, "signing-certificate attribute does not parse"
		return c
	}
	if len(v2) > 0 && f[0].Tag == asn1.TagSequence {
		var alg struct{ Algorithm asn1.ObjectIdentifier }
		asn1.Unmarshal(f[0].FullBytes, &alg)
		var ok bool
		if h, ok = hashFor(alg.Algorithm); !ok && h != crypto.SHA1 {
			c.Result, c.Detail = trust.Fail, "signing-certificate-v2 hash algorithm not supported"
			return c
		}
		f = f[1:]
	}
	var certHash []byte
	if len(f) == 0 {
		c.Result, c.Detail = trust.Fail, "signing-certificate attribute has no hash"
		return c
	}
	asn1.Unmarshal(f[0].FullBytes, &certHash)
	var sum []byte
	if h == crypto.SHA1 {
		s := sha1.Sum(cert.Raw)
		sum = s[:]
	} else {
		hh := h.New()
		hh.Write(cert.Raw)
		sum = hh.Sum(nil)
	}
	if !bytes.Equal(certHash, sum) {
		c.Result, c.Detail = trust.Fail, "the signing-certificate attribute names another certificate than the signer's"
		return c
	}
	if len(f) > 1 {
		var is struct {
			Issuer asn1.RawValue
			Serial asn1.RawValue
		}
		if _, err := asn1.Unmarshal(f[1].FullBytes, &is); err == nil {
			var serial *big.Int
			if _, err := asn1.Unmarshal(is.Serial.FullBytes, &serial); err == nil && serial.Cmp(cert.SerialNumber) != 0 {
				c.Result, c.Detail = trust.Fail, "the signing-certificate attribute's serial is not the signer's"
				return c
			}
		}
	}
	c.Result, c.Detail = trust.Pass, fmt.Sprintf("signing-certificate%s names the signer's certificate (%v)", map[bool]string{true: "-v2", false: ""}[len(v2) > 0], h)
	return c
}

// timestampCheck judges an RFC 3161 token over a signature value by the
// same rules as a CMS signature's timestamp (jpki.CheckTimestampToken).
// SHA-1 is never accepted here.
func timestampCheck(token, sigValue []byte, roots []*x509.Certificate, now time.Time) (trust.Check, time.Time) {
	return jpki.CheckTimestampToken(token, sigValue, roots, false, now)
}
