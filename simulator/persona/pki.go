package persona

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/mynakit/mynakit/myna"
)

// The simulator's X.509 roots mimic the J-LIS DN pattern (docs/card.md
// §5.2) with O=JPKI-SIM in place of JPKI / JPKI-TEST.
const SimOrganization = "JPKI-SIM"

var (
	oidCountry  = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidOrg      = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrgUnit  = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidLocality = asn1.ObjectIdentifier{2, 5, 4, 7}
	oidCN       = asn1.ObjectIdentifier{2, 5, 4, 3}

	oidSAN      = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidPolicies = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidCPS      = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 1}

	// OIDSignPolicy is the certificate policy of the simulator's signing
	// certificate: the JPKI-TEST 署名用 policy (docs/card.md §5.2).
	OIDSignPolicy = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 1, 0, 20}

	// SAN otherName type IDs of the 基本4情報 (docs/card.md §5.2).
	OIDName        = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 1}
	OIDNameAlt     = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 2}
	OIDSex         = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 3}
	OIDBirthDate   = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 4}
	OIDAddress     = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 5}
	OIDAddressAlt  = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 6}
	jlisOU         = "Japan Agency for Local Authority Information Systems"
	rootsNotBefore = time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	rootsNotAfter  = time.Date(2044, 3, 31, 14, 59, 59, 0, time.UTC)
	jst            = time.FixedZone("JST", 9*3600)
)

// rdns builds a DN with one attribute per RDN, in the order given (Go's
// pkix.Name would merge the two OUs into one multi-valued RDN).
func rdns(attrs ...pkix.AttributeTypeAndValue) []byte {
	seq := make(pkix.RDNSequence, len(attrs))
	for i, a := range attrs {
		seq[i] = pkix.RelativeDistinguishedNameSET{a}
	}
	b, err := asn1.Marshal(seq)
	if err != nil {
		panic(err)
	}
	return b
}

func attr(oid asn1.ObjectIdentifier, v string) pkix.AttributeTypeAndValue {
	return pkix.AttributeTypeAndValue{Type: oid, Value: v}
}

func rootDN(purpose string) []byte {
	return rdns(attr(oidCountry, "JP"), attr(oidOrg, SimOrganization),
		attr(oidOrgUnit, purpose), attr(oidOrgUnit, jlisOU))
}

const (
	ouAuth = "JPKI for user authentication"
	ouSign = "JPKI for digital signature"
)

// ski is the RFC 5280 method-1 key identifier (SHA-1 of the public key bits).
func ski(pub *rsa.PublicKey) []byte {
	der := x509.MarshalPKCS1PublicKey(pub)
	h := sha1.Sum(der)
	return h[:]
}

type roots struct {
	auth, sign       []byte // DER
	authDN, signDN   []byte
	authSKI, signSKI []byte
}

var (
	rootsOnce sync.Once
	rootsVal  roots
	rootsErr  error
)

// testRoots builds the two self-signed roots once (deterministic: fixed
// serials and dates, PKCS#1 v1.5 signatures).
func testRoots() (roots, error) {
	rootsOnce.Do(func() {
		ks, err := loadKeys()
		if err != nil {
			rootsErr = err
			return
		}
		mk := func(serial int64, ou string, k *rsa.PrivateKey) ([]byte, []byte, []byte, error) {
			dn := rootDN(ou)
			id := ski(&k.PublicKey)
			t := &x509.Certificate{
				SerialNumber:          big.NewInt(serial),
				RawSubject:            dn,
				RawIssuer:             dn,
				NotBefore:             rootsNotBefore,
				NotAfter:              rootsNotAfter,
				KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
				BasicConstraintsValid: true,
				IsCA:                  true,
				SubjectKeyId:          id,
				SignatureAlgorithm:    x509.SHA256WithRSA,
			}
			der, err := x509.CreateCertificate(zeroReader{}, t, t, &k.PublicKey, k)
			return der, dn, id, err
		}
		var r roots
		if r.auth, r.authDN, r.authSKI, err = mk(0x5101, ouAuth, ks[keyJPKIAuthRoot].priv); err != nil {
			rootsErr = fmt.Errorf("persona: auth root: %w", err)
			return
		}
		if r.sign, r.signDN, r.signSKI, err = mk(0x5102, ouSign, ks[keyJPKISignRoot].priv); err != nil {
			rootsErr = fmt.Errorf("persona: sign root: %w", err)
			return
		}
		rootsVal = r
	})
	return rootsVal, rootsErr
}

// zeroReader is handed to x509.CreateCertificate: PKCS#1 v1.5 signing does
// not consume randomness, and a fixed reader keeps any accidental use
// deterministic.
type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// TestRootsPEM returns the simulator's JPKI X.509 roots (利用者証明用 then
// 署名用) as PEM: what a reader must be told to trust to accept a simulated
// card's certificates. Same content as simulator/testdata/trust/sim-roots.pem.
func TestRootsPEM() []byte {
	r, err := testRoots()
	if err != nil {
		panic(err) // the keys are embedded; a failure is a broken build
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.auth})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.sign})...)
}

type cvKeyJSON struct {
	KeyIDASCII  string `json:"key_id_ascii"`
	KeyIDHex    string `json:"key_id_hex"`
	Hierarchy   string `json:"hierarchy"`
	Role        string `json:"role"`
	ExponentHex string `json:"exponent_hex"`
	ModulusHex  string `json:"modulus_hex"`
}

// TestCVKeysJSON returns the public keys of the simulator's CV CAs (MF chain
// root 6990020/001, 券面事項確認AP CA 6990023/001, 入力補助AP CA 6990033/001)
// in the JSON form of trust/anchors/jlis-cv-ca-keys.json, hierarchy
// "simulator". Same content as simulator/testdata/trust/sim-cv-ca-keys.json.
func TestCVKeysJSON() []byte {
	ks, err := loadKeys()
	if err != nil {
		panic(err)
	}
	entry := func(id KeyID, role, name string) cvKeyJSON {
		return cvKeyJSON{
			KeyIDASCII:  string(id[0:7]),
			KeyIDHex:    hex.EncodeToString(id[:]),
			Hierarchy:   "simulator",
			Role:        role,
			ExponentHex: "010001",
			ModulusHex:  hex.EncodeToString(ks[name].priv.N.Bytes()),
		}
	}
	doc := struct {
		About string      `json:"about"`
		Keys  []cvKeyJSON `json:"keys"`
	}{
		About: "RSA-2048 public keys of the mynakit simulator's test CV CAs (signers of the card-verifiable certificates in simulated cards' card-surface applets' EF 0004 and the MF-level chain). Test keys whose private halves are public in simulator/testdata/keys: trust them only for simulated cards.",
		Keys: []cvKeyJSON{
			entry(IDCVRoot, "card-level (MF) chain", keyCVRoot),
			entry(IDCVSurfaceCA, "券面事項確認AP (card surface)", keyCVSurfaceCA),
			entry(IDCVTextCA, "券面事項入力補助AP (text input assist)", keyCVTextCA),
		},
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// otherName encodes one SAN otherName: [0] { type-id, [0] EXPLICIT UTF8String }.
func otherName(oid asn1.ObjectIdentifier, value string) asn1.RawValue {
	oidDER, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	str, err := asn1.MarshalWithParams(value, "utf8")
	if err != nil {
		panic(err)
	}
	explicit, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: str})
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oidDER, explicit...)}
}

func zeros(s string) string {
	n := len([]rune(s))
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

// signSAN is the 署名用 certificate's subjectAltName: the 基本4情報 as
// otherNames, in the order the test card shows (.1, .4, .3, .5, .2, .6).
func (p *Persona) signSAN(birth time.Time) ([]byte, error) {
	era, _, err := myna.EraOf(birth)
	if err != nil {
		return nil, err
	}
	names := []asn1.RawValue{
		otherName(OIDName, p.Name),
		otherName(OIDBirthDate, fmt.Sprintf("%d%s", int(era), birth.Format("20060102"))),
		otherName(OIDSex, p.Sex),
		otherName(OIDAddress, p.Address),
		otherName(OIDNameAlt, zeros(p.Name)),
		otherName(OIDAddressAlt, zeros(p.Address)),
	}
	return asn1.Marshal(names)
}

func signPolicies() []byte {
	type qualifier struct {
		ID  asn1.ObjectIdentifier
		CPS string `asn1:"ia5"`
	}
	type policy struct {
		ID         asn1.ObjectIdentifier
		Qualifiers []qualifier
	}
	b, err := asn1.Marshal([]policy{{ID: OIDSignPolicy, Qualifiers: []qualifier{{ID: oidCPS, CPS: "http://www.jpki.go.jp/cps.html"}}}})
	if err != nil {
		panic(err)
	}
	return b
}

// certID is the opaque subject identifier of a user certificate: 14
// characters derived from the card serial and purpose, the municipality
// code and a 4-character suffix (the test card's 利用者証明用 CN
// 997794E9AGCIEG13221003A has this shape).
func (p *Persona) certID(purpose string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	h := sha256.Sum256([]byte("mynakit-sim/" + purpose + "/" + p.Serial))
	id := make([]byte, 14)
	for i := range id {
		id[i] = alphabet[int(h[i])%len(alphabet)]
	}
	suffix := "003A"
	if purpose == "sign" {
		suffix = "003B"
	}
	return string(id) + p.Municipality + suffix
}

func serialFor(p *Persona, purpose string) *big.Int {
	h := sha256.Sum256([]byte("mynakit-sim serial/" + purpose + "/" + p.Serial + "/" + p.CertIssued))
	return new(big.Int).SetBytes(h[:8])
}

// certValidity: from the issue day (00:00 JST) to the 5th birthday after it
// (23:59:59 JST), but never beyond the card's expiry.
func (p *Persona) certValidity() (from, to time.Time, err error) {
	issued, err := parseDate("cert_issued", p.CertIssued)
	if err != nil {
		return
	}
	birth, err := parseDate("birth_date", p.BirthDate)
	if err != nil {
		return
	}
	expiry, err := parseDate("card_expiry", p.CardExpiry)
	if err != nil {
		return
	}
	bd := time.Date(issued.Year(), birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC)
	if !bd.After(issued) {
		bd = bd.AddDate(1, 0, 0)
	}
	end := bd.AddDate(4, 0, 0)
	if end.After(expiry) {
		end = expiry
	}
	from = time.Date(issued.Year(), issued.Month(), issued.Day(), 0, 0, 0, 0, jst).UTC()
	to = time.Date(end.Year(), end.Month(), end.Day(), 23, 59, 59, 0, jst).UTC()
	return from, to, nil
}

// userCerts issues the 利用者証明用 and 署名用 certificates.
func (p *Persona) userCerts(ks map[string]testKey, r roots) (auth, signCert []byte, err error) {
	from, to, err := p.certValidity()
	if err != nil {
		return nil, nil, err
	}
	birth, _ := parseDate("birth_date", p.BirthDate)

	authKey := &ks[keyUserAuth].priv.PublicKey
	at := &x509.Certificate{
		SerialNumber:       serialFor(p, "auth"),
		RawSubject:         rdns(attr(oidCountry, "JP"), attr(oidCN, p.certID("auth"))),
		NotBefore:          from,
		NotAfter:           to,
		KeyUsage:           x509.KeyUsageDigitalSignature,
		SubjectKeyId:       ski(authKey),
		AuthorityKeyId:     r.authSKI,
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	authParent := &x509.Certificate{RawSubject: r.authDN, SubjectKeyId: r.authSKI, PublicKey: &ks[keyJPKIAuthRoot].priv.PublicKey}
	if auth, err = x509.CreateCertificate(zeroReader{}, at, authParent, authKey, ks[keyJPKIAuthRoot].priv); err != nil {
		return nil, nil, fmt.Errorf("persona: auth certificate: %w", err)
	}

	san, err := p.signSAN(birth)
	if err != nil {
		return nil, nil, err
	}
	subject := []pkix.AttributeTypeAndValue{attr(oidCountry, "JP")}
	for _, l := range p.Locality {
		subject = append(subject, attr(oidLocality, l))
	}
	subject = append(subject, attr(oidCN, p.certID("sign")))
	signKey := &ks[keyUserSign].priv.PublicKey
	st := &x509.Certificate{
		SerialNumber:       serialFor(p, "sign"),
		RawSubject:         rdns(subject...),
		NotBefore:          from,
		NotAfter:           to,
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		SubjectKeyId:       ski(signKey),
		AuthorityKeyId:     r.signSKI,
		SignatureAlgorithm: x509.SHA256WithRSA,
		ExtraExtensions: []pkix.Extension{
			{Id: oidSAN, Value: san},
			{Id: oidPolicies, Critical: true, Value: signPolicies()},
		},
	}
	signParent := &x509.Certificate{RawSubject: r.signDN, SubjectKeyId: r.signSKI, PublicKey: &ks[keyJPKISignRoot].priv.PublicKey}
	if signCert, err = x509.CreateCertificate(zeroReader{}, st, signParent, signKey, ks[keyJPKISignRoot].priv); err != nil {
		return nil, nil, fmt.Errorf("persona: sign certificate: %w", err)
	}
	return auth, signCert, nil
}
