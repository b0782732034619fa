package pdfsig

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/mynakit/mynakit/jpki"
)

// The CAdES-BES signed data a PAdES baseline signature holds in /Contents
// (ETSI EN 319 122-1, RFC 5652). smallstep/pkcs7 cannot make it: its
// signers always add a signing-time attribute (PAdES baseline forbids it;
// the claimed time is the dictionary's /M) and hash the content from one
// slice, so it is built here on encoding/asn1.

var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidAttrSigningCert   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidAttrTimeStamp     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidSHA1              = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidRSA               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256RSA         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384RSA         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512RSA         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECDSA256          = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSA384          = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSA512          = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
)

// der builds one DER element.
func der(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func attribute(oid asn1.ObjectIdentifier, value []byte) []byte {
	return der(0x30, mustMarshal(oid), der(0x31, value))
}

// setOf is a DER SET OF: elements sorted by their encodings.
func setOf(tag byte, elems [][]byte) []byte {
	s := slices.Clone(elems)
	slices.SortFunc(s, bytes.Compare)
	return der(tag, s...)
}

// signingCertificateV2 is the ESS signing-certificate-v2 value for cert
// (SHA-256, the default algorithm, so omitted; with issuer and serial).
func signingCertificateV2(cert *x509.Certificate) []byte {
	h := sha256.Sum256(cert.Raw)
	issuerSerial := der(0x30, der(0x30, der(0xA4, cert.RawIssuer)), mustMarshal(cert.SerialNumber))
	essCertID := der(0x30, mustMarshal(h[:]), issuerSerial)
	return der(0x30, der(0x30, essCertID))
}

// buildCMS makes the CAdES-BES SignedData over a document digest
// (SHA-256 of the byte ranges). tsa, when set, timestamps the signature
// value; certs are added after the signer's.
func buildCMS(digest []byte, signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, tsa jpki.Timestamper, byKeyID bool) ([]byte, error) {
	attrs := [][]byte{
		attribute(oidAttrContentType, mustMarshal(oidData)),
		attribute(oidAttrMessageDigest, mustMarshal(digest)),
		attribute(oidAttrSigningCertV2, signingCertificateV2(cert)),
	}
	signed := setOf(0x31, attrs)
	sum := sha256.Sum256(signed)
	sig, err := signer.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	var sigAlg []byte
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		sigAlg = der(0x30, mustMarshal(oidRSA), []byte{0x05, 0x00})
	case *ecdsa.PublicKey:
		sigAlg = der(0x30, mustMarshal(oidECDSA256))
	default:
		return nil, errors.New("sign: unsupported key type")
	}
	var unsigned []byte
	if tsa != nil {
		h := sha256.Sum256(sig)
		token, err := tsa(h[:])
		if err != nil {
			return nil, fmt.Errorf("timestamp: %w", err)
		}
		var rv asn1.RawValue
		if rest, err := asn1.Unmarshal(token, &rv); err != nil || len(rest) != 0 {
			return nil, errors.New("timestamp: the token is not one DER element")
		}
		unsigned = der(0xA1, attribute(oidAttrTimeStamp, token))
	}
	sha256Alg := der(0x30, mustMarshal(oidSHA256))
	sid, version := der(0x30, cert.RawIssuer, mustMarshal(cert.SerialNumber)), 1
	if byKeyID {
		if len(cert.SubjectKeyId) == 0 {
			return nil, errors.New("sign: the certificate has no subject key identifier")
		}
		// RFC 5652 §5.3: a subjectKeyIdentifier sid makes version 3.
		sid, version = der(0x80, cert.SubjectKeyId), 3
	}
	signerInfo := der(0x30, mustMarshal(version), sid, sha256Alg,
		append([]byte{0xA0}, signed[1:]...), // [0] IMPLICIT SET
		sigAlg, mustMarshal(sig), unsigned)
	certs := [][]byte{cert.Raw}
	for _, c := range chain {
		certs = append(certs, c.Raw)
	}
	sd := der(0x30, mustMarshal(version), der(0x31, sha256Alg), der(0x30, mustMarshal(oidData)),
		der(0xA0, certs...), der(0x31, signerInfo))
	return der(0x30, mustMarshal(oidSignedData), der(0xA0, sd)), nil
}

// parsedCMS is what the verifier reads from /Contents.
type parsedCMS struct {
	certs       []*x509.Certificate
	digestAlg   asn1.ObjectIdentifier
	sigAlg      asn1.ObjectIdentifier
	sidIssuer   []byte   // issuerAndSerialNumber: the issuer's raw Name
	sidSerial   *big.Int // and serial
	sidKeyID    []byte   // subjectKeyIdentifier, when the sid is one
	signedAttrs []byte   // the DER of the signed attributes as a SET (tag 0x31)
	attrs       map[string][]asn1.RawValue
	signature   []byte
	unsigned    map[string][]asn1.RawValue
	signers     int
}

func elements(b []byte) ([]asn1.RawValue, error) {
	var out []asn1.RawValue
	for len(b) > 0 {
		var rv asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &rv); err != nil {
			return nil, err
		}
		out = append(out, rv)
		if len(out) > 4096 {
			return nil, errors.New("too many elements")
		}
	}
	return out, nil
}

func parseAttrs(b []byte) (map[string][]asn1.RawValue, error) {
	els, err := elements(b)
	if err != nil {
		return nil, err
	}
	m := map[string][]asn1.RawValue{}
	for _, e := range els {
		var a struct {
			Type   asn1.ObjectIdentifier
			Values asn1.RawValue
		}
		if rest, err := asn1.Unmarshal(e.FullBytes, &a); err != nil || len(rest) != 0 || a.Values.Tag != asn1.TagSet {
			return nil, errors.New("bad attribute")
		}
		vals, err := elements(a.Values.Bytes)
		if err != nil {
			return nil, err
		}
		m[a.Type.String()] = append(m[a.Type.String()], vals...)
	}
	return m, nil
}

// parseCMS reads a DER SignedData; trailing zero padding is allowed.
func parseCMS(b []byte, detached bool) (*parsedCMS, error) {
	if conv, err := berToDER(b); err == nil {
		b = conv
	}
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	rest, err := asn1.Unmarshal(b, &ci)
	if err != nil {
		return nil, fmt.Errorf("not a CMS ContentInfo: %w", err)
	}
	for _, c := range rest {
		if c != 0 {
			return nil, errors.New("data after the CMS ContentInfo")
		}
	}
	if !ci.Type.Equal(oidSignedData) {
		return nil, fmt.Errorf("CMS content type %v is not signed data", ci.Type)
	}
	sd, err := elements(ci.Content.Bytes)
	if err != nil || len(sd) != 1 || sd[0].Tag != asn1.TagSequence {
		return nil, errors.New("bad SignedData")
	}
	f, err := elements(sd[0].Bytes)
	if err != nil || len(f) < 4 {
		return nil, errors.New("bad SignedData")
	}
	p := &parsedCMS{}
	// version, digestAlgorithms, encapContentInfo, [0] certs, [1] crls, signerInfos
	var eci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"optional,explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(f[2].FullBytes, &eci); err != nil {
		return nil, errors.New("bad encapsulated content info")
	}
	if detached && len(eci.Content.Bytes) > 0 {
		return nil, errors.New("the CMS is not detached")
	}
	i := 3
	for ; i < len(f)-1; i++ {
		if f[i].Class == asn1.ClassContextSpecific && f[i].Tag == 0 {
			certs, err := elements(f[i].Bytes)
			if err != nil {
				return nil, errors.New("bad certificate set")
			}
			for _, c := range certs {
				if c.Tag != asn1.TagSequence || c.Class != asn1.ClassUniversal {
					continue // other certificate formats
				}
				x, err := x509.ParseCertificate(c.FullBytes)
				if err != nil {
					return nil, fmt.Errorf("certificate in the CMS: %w", err)
				}
				p.certs = append(p.certs, x)
			}
		}
	}
	sis, err := elements(f[len(f)-1].Bytes)
	if err != nil || f[len(f)-1].Tag != asn1.TagSet {
		return nil, errors.New("bad signer infos")
	}
	p.signers = len(sis)
	if len(sis) == 0 {
		return nil, errors.New("CMS has no signer")
	}
	si, err := elements(sis[0].Bytes)
	if err != nil || len(si) < 5 {
		return nil, errors.New("bad SignerInfo")
	}
	switch {
	case si[1].Class == asn1.ClassContextSpecific && si[1].Tag == 0:
		p.sidKeyID = si[1].Bytes
	case si[1].Tag == asn1.TagSequence:
		var ias struct {
			Issuer asn1.RawValue
			Serial *big.Int
		}
		if _, err := asn1.Unmarshal(si[1].FullBytes, &ias); err != nil {
			return nil, errors.New("bad signer identifier")
		}
		p.sidIssuer, p.sidSerial = ias.Issuer.FullBytes, ias.Serial
	default:
		return nil, errors.New("bad signer identifier")
	}
	var alg struct {
		Algorithm asn1.ObjectIdentifier
		Params    asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(si[2].FullBytes, &alg); err != nil {
		return nil, errors.New("bad digest algorithm")
	}
	p.digestAlg = alg.Algorithm
	k := 3
	if si[k].Class == asn1.ClassContextSpecific && si[k].Tag == 0 {
		p.signedAttrs = append([]byte{0x31}, si[k].FullBytes[1:]...)
		if p.attrs, err = parseAttrs(si[k].Bytes); err != nil {
			return nil, fmt.Errorf("signed attributes: %w", err)
		}
		k++
	}
	if k+1 >= len(si) {
		return nil, errors.New("bad SignerInfo")
	}
	if _, err := asn1.Unmarshal(si[k].FullBytes, &alg); err != nil {
		return nil, errors.New("bad signature algorithm")
	}
	p.sigAlg = alg.Algorithm
	if _, err := asn1.Unmarshal(si[k+1].FullBytes, &p.signature); err != nil {
		return nil, errors.New("bad signature value")
	}
	if k+2 < len(si) && si[k+2].Class == asn1.ClassContextSpecific && si[k+2].Tag == 1 {
		if p.unsigned, err = parseAttrs(si[k+2].Bytes); err != nil {
			return nil, fmt.Errorf("unsigned attributes: %w", err)
		}
	}
	return p, nil
}

// hashFor maps a digest algorithm OID to its hash. SHA-1 is reported
// separately: it is not accepted for new evidence.
func hashFor(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	case oid.Equal(oidSHA1):
		return crypto.SHA1, false
	}
	return 0, false
}

// x509Alg picks the x509 signature algorithm for a SignerInfo.
func x509Alg(sigAlg asn1.ObjectIdentifier, h crypto.Hash, pub any) x509.SignatureAlgorithm {
	switch pub.(type) {
	case *rsa.PublicKey:
		if !sigAlg.Equal(oidRSA) && !sigAlg.Equal(oidSHA256RSA) && !sigAlg.Equal(oidSHA384RSA) && !sigAlg.Equal(oidSHA512RSA) {
			return x509.UnknownSignatureAlgorithm
		}
		switch h {
		case crypto.SHA256:
			return x509.SHA256WithRSA
		case crypto.SHA384:
			return x509.SHA384WithRSA
		case crypto.SHA512:
			return x509.SHA512WithRSA
		}
	case *ecdsa.PublicKey:
		switch {
		case sigAlg.Equal(oidECDSA256):
			return x509.ECDSAWithSHA256
		case sigAlg.Equal(oidECDSA384):
			return x509.ECDSAWithSHA384
		case sigAlg.Equal(oidECDSA512):
			return x509.ECDSAWithSHA512
		}
	}
	return x509.UnknownSignatureAlgorithm
}

// berToDER rewrites indefinite lengths (BER, as NSS writes a CMS) as
// definite ones; definite encodings are copied. Constructed strings are
// kept as they are. Depth and size are bounded by the input.
func berToDER(b []byte) ([]byte, error) {
	out, rest, err := berElement(b, 0)
	if err != nil {
		return nil, err
	}
	return append(out, rest...), nil
}

func berElement(b []byte, depth int) (out, rest []byte, err error) {
	if depth > maxDepth {
		return nil, nil, errors.New("BER nested too deep")
	}
	if len(b) < 2 {
		return nil, nil, errors.New("BER truncated")
	}
	h := 1
	if b[0]&0x1f == 0x1f {
		for h < len(b) && b[h]&0x80 != 0 {
			h++
		}
		h++
	}
	if h >= len(b) {
		return nil, nil, errors.New("BER truncated")
	}
	tag := b[:h]
	constructed := b[0]&0x20 != 0
	l := b[h]
	h++
	if l == 0x80 {
		if !constructed {
			return nil, nil, errors.New("BER indefinite length on a primitive")
		}
		var content []byte
		r := b[h:]
		for {
			if len(r) >= 2 && r[0] == 0 && r[1] == 0 {
				r = r[2:]
				break
			}
			var c []byte
			if c, r, err = berElement(r, depth+1); err != nil {
				return nil, nil, err
			}
			content = append(content, c...)
		}
		enc := append(append([]byte(nil), tag...), derLen(len(content))...)
		return append(enc, content...), r, nil
	}
	n := 0
	if l < 0x80 {
		n = int(l)
	} else {
		k := int(l & 0x7f)
		if k > 4 || h+k > len(b) {
			return nil, nil, errors.New("BER length too long")
		}
		for i := 0; i < k; i++ {
			n = n<<8 | int(b[h+i])
		}
		h += k
	}
	if n < 0 || h+n > len(b) {
		return nil, nil, errors.New("BER truncated")
	}
	content := b[h : h+n]
	if constructed {
		var conv []byte
		r := content
		for len(r) > 0 {
			var c []byte
			if c, r, err = berElement(r, depth+1); err != nil {
				return nil, nil, err
			}
			conv = append(conv, c...)
		}
		content = conv
	}
	enc := append(append([]byte(nil), tag...), derLen(len(content))...)
	return append(enc, content...), b[h+n:], nil
}

func derLen(n int) []byte {
	switch {
	case n < 0x80:
		return []byte{byte(n)}
	case n < 0x100:
		return []byte{0x81, byte(n)}
	case n < 0x10000:
		return []byte{0x82, byte(n >> 8), byte(n)}
	case n < 0x1000000:
		return []byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return []byte{0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}
