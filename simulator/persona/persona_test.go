package persona

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	ber "github.com/mynakit/mynakit/tlv"
)

var update = flag.Bool("update", false, "rewrite simulator/testdata/trust from the code")

func mustBuild(t testing.TB, p *Persona) *simulator.Image {
	t.Helper()
	img, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func applet(t testing.TB, img *simulator.Image, a myna.Applet) *simulator.Applet {
	t.Helper()
	ap := img.Applets[fmt.Sprintf("%X", a.AID())]
	if ap == nil {
		t.Fatalf("image lacks applet %s", a)
	}
	return ap
}

func fileData(t testing.TB, img *simulator.Image, a myna.Applet, fid uint16) []byte {
	t.Helper()
	f := applet(t, img, a).Files[simulator.FIDString(fid)]
	if f == nil {
		t.Fatalf("applet %s lacks EF %04X", a, fid)
	}
	return f.Data
}

// object parses the TLV at the start of an EF and checks the filler after it.
func object(t testing.TB, data []byte) ber.TLV {
	t.Helper()
	obj, rest, err := ber.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) == 0 {
		t.Errorf("EF has no filler after its %d-byte object", len(obj.Raw))
	}
	for _, c := range rest {
		if c != 0xFF {
			t.Fatalf("filler byte %02X, want FF", c)
		}
	}
	return obj
}

func children(t testing.TB, obj ber.TLV, tags ...uint32) []ber.TLV {
	t.Helper()
	kids, err := obj.Children()
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) != len(tags) {
		t.Fatalf("tag %X: %d children, want %d", obj.Tag, len(kids), len(tags))
	}
	for i, k := range kids {
		if k.Tag != tags[i] {
			t.Fatalf("tag %X child %d: tag %X, want %X", obj.Tag, i, k.Tag, tags[i])
		}
	}
	return kids
}

// cardPub decodes 90 03 01 00 01 91 82 01 00 <modulus>.
func cardPub(t testing.TB, b []byte) *rsa.PublicKey {
	t.Helper()
	if len(b) != 265 || !bytes.HasPrefix(b, []byte{0x90, 0x03, 0x01, 0x00, 0x01, 0x91, 0x82, 0x01, 0x00}) {
		t.Fatalf("public key encoding % X...", b[:min(len(b), 12)])
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(b[9:]), E: 65537}
}

func verifySHA256(t testing.TB, what string, pub *rsa.PublicKey, msg, sig []byte) {
	t.Helper()
	h := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Errorf("%s: signature does not verify: %v", what, err)
	}
}

// cvKeys parses TestCVKeysJSON independently of the builder's code.
func cvKeys(t testing.TB) map[string]*rsa.PublicKey {
	var doc struct {
		Keys []struct {
			KeyIDHex    string `json:"key_id_hex"`
			Hierarchy   string `json:"hierarchy"`
			ExponentHex string `json:"exponent_hex"`
			ModulusHex  string `json:"modulus_hex"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(TestCVKeysJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, k := range doc.Keys {
		if k.Hierarchy != "simulator" || k.ExponentHex != "010001" {
			t.Fatalf("CV key %s: hierarchy %q exponent %s", k.KeyIDHex, k.Hierarchy, k.ExponentHex)
		}
		n, ok := new(big.Int).SetString(k.ModulusHex, 16)
		if !ok || n.BitLen() != 2048 {
			t.Fatalf("CV key %s: bad modulus", k.KeyIDHex)
		}
		id, _ := hex.DecodeString(k.KeyIDHex)
		out[string(id)] = &rsa.PublicKey{N: n, E: 65537}
	}
	return out
}

// checkCV verifies a bare CV certificate (5F4E ‖ 5F37) and returns subject ID and key.
func checkCV(t testing.TB, what string, bare []byte, issuers map[string]*rsa.PublicKey) (subject []byte, pub *rsa.PublicKey) {
	t.Helper()
	objs, err := ber.ParseAll(bare)
	if err != nil || len(objs) != 2 || objs[0].Tag != 0x5F4E || objs[1].Tag != 0x5F37 {
		t.Fatalf("%s: not 5F4E ‖ 5F37 (%v)", what, err)
	}
	body := objs[0].Value
	if len(body) != 297 || len(objs[1].Value) != 256 {
		t.Fatalf("%s: body %d bytes, signature %d", what, len(body), len(objs[1].Value))
	}
	if !bytes.Equal(objs[0].Raw[:5], []byte{0x5F, 0x4E, 0x82, 0x01, 0x29}) {
		t.Errorf("%s: header % X", what, objs[0].Raw[:5])
	}
	issuer := issuers[string(body[:16])]
	if issuer == nil {
		t.Fatalf("%s: unknown issuer %q", what, body[:16])
	}
	verifySHA256(t, what, issuer, body, objs[1].Value)
	return body[16:32], cardPub(t, body[32:])
}

func TestDefaultIsTheTestCardHolder(t *testing.T) {
	p := Default()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := p.codeB()
	if err != nil || b != "55021720352285" {
		t.Fatalf("照合番号B = %q, %v", b, err)
	}
	if got := string(p.commonRecord()); got != "\x01\x1c"+"400000012719843"+"13221"+"20350217" {
		t.Fatalf("common record %q", got)
	}
	// Secrets never print.
	if s := fmt.Sprintf("%v %+v", p.PINs, p); strings.Contains(s, "1234") || strings.Contains(s, "ABC123") || strings.Contains(s, "537686677188") {
		t.Fatalf("persona prints a secret: %s", s)
	}
}

func TestValidateRejects(t *testing.T) {
	cases := map[string]func(p *Persona){
		"check digit":      func(p *Persona) { p.MyNumber = "537686677189" },
		"my number length": func(p *Persona) { p.MyNumber = "53768667718" },
		"birth date":       func(p *Persona) { p.BirthDate = "1980-02-30" },
		"before Meiji":     func(p *Persona) { p.BirthDate = "1860-01-01" },
		"expiry":           func(p *Persona) { p.CardExpiry = "2035/02/17" },
		"expiry order":     func(p *Persona) { p.CardExpiry = "1979-01-01" },
		"sex":              func(p *Persona) { p.Sex = "3" },
		"auth pin":         func(p *Persona) { p.PINs.JPKIAuth = "12345" },
		"text pin":         func(p *Persona) { p.PINs.Text = "12a4" },
		"sign lower":       func(p *Persona) { p.PINs.JPKISign = "abc123" },
		"sign short":       func(p *Persona) { p.PINs.JPKISign = "AB12" },
		"sign no digit":    func(p *Persona) { p.PINs.JPKISign = "ABCDEFG" },
		"sign long":        func(p *Persona) { p.PINs.JPKISign = "ABCDEFGHIJ1234567" },
		"security code":    func(p *Persona) { p.SecurityCode = "228" },
		"municipality":     func(p *Persona) { p.Municipality = "1322" },
		"serial":           func(p *Persona) { p.Serial = "40000001271984X" },
		"name":             func(p *Persona) { p.Name = "" },
		"token":            func(p *Persona) { p.Token = "iphone" },
		"remaining name":   func(p *Persona) { p.Remaining = map[myna.KeyName]int{"nope": 1} },
		"remaining range":  func(p *Persona) { p.Remaining = map[myna.KeyName]int{"jpki-auth-pin": 4} },
		"android text key": func(p *Persona) { p.Token = jpki.TokenAndroid; p.Remaining = map[myna.KeyName]int{"text-pin": 1} },
		"photo missing":    func(p *Persona) { p.Photo = "/nonexistent/photo.jp2" },
	}
	for name, mutate := range cases {
		p := Default()
		mutate(p)
		err := p.Validate()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, secret := range []string{"537686677189", "12345", "abc123", "ABCDEFG"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error leaks a secret: %v", name, err)
			}
		}
		if _, err := Build(p); err == nil {
			t.Errorf("%s: Build accepted it", name)
		}
	}
}

func TestBuildDeterministic(t *testing.T) {
	a, err := mustBuild(t, Default()).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mustBuild(t, Default()).Marshal()
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the default persona differ")
	}
}

func TestImageValidAndRoundTrip(t *testing.T) {
	for _, tok := range []jpki.Token{jpki.TokenCard, jpki.TokenAndroid} {
		p := Default()
		p.Token = tok
		img := mustBuild(t, p)
		if err := img.Validate(); err != nil {
			t.Fatal(err)
		}
		js, err := img.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := simulator.ParseImage(js)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(img, back) {
			t.Fatalf("%s: JSON round trip changes the image", tok)
		}
	}
}

func TestTestCardVectors(t *testing.T) {
	img := mustBuild(t, Default())
	// §2.2 EF 0001 and EF 0002 bytes of the test card.
	want1, _ := hex.DecodeString("FF100C353337363836363737313838FFFF")
	if got := fileData(t, img, myna.Text, myna.TextMyNumber); !bytes.Equal(got, want1) {
		t.Fatalf("text EF 0001 = % X", got)
	}
	want2, _ := hex.DecodeString("FF2065DF2108000E00200059006" + "4" +
		"DF220FE9BB92E6A190E38080E5B9B9E4B99F" +
		"DF2336E69DB1E4BAACE983BDE6B885E780ACE5B882E8A6B3E5B883E5AD90E58D97EFBC91EFBC92EFBC8DEFBC97EFBC8DEFBC92EFBC90EFBC92" +
		"DF240831393830303231" + "37" + "DF250131")
	obj := object(t, fileData(t, img, myna.Text, myna.TextAttributes))
	if !bytes.Equal(obj.Raw, want2) {
		t.Fatalf("text EF 0002 =\n% X\nwant\n% X", obj.Raw, want2)
	}
	integ := object(t, fileData(t, img, myna.Text, myna.TextIntegrity))
	kids := children(t, integ, 0xDF31, 0xDF32, 0xDF33)
	if hex.EncodeToString(kids[0].Value) != "6d5a4c1ef9ab15bf506862d7e66b9c0f179ca065bc936c8e634e9e57449ca9cd" ||
		hex.EncodeToString(kids[1].Value) != "b9e0d09427b23b1d4beda2848512b4103752dc2667e51f9712872d65f472cb3b" {
		t.Fatal("integrity digests differ from the §5.6 test vectors")
	}
	if len(integ.Raw) != 336 || len(fileData(t, img, myna.Text, myna.TextCVCert)) < 568 {
		t.Fatalf("text EF 0003 object %d bytes, want 336", len(integ.Raw))
	}
	// Keys (§3.6) and their access.
	surf := applet(t, img, myna.Surface)
	if v := surf.Keys["0011"].Value; v == nil || *v != "550217" {
		t.Fatal("surface birth key is not 550217")
	}
	if v := surf.Keys["0012"].Value; v == nil || *v != "55021720352285" {
		t.Fatal("surface 照合番号B wrong")
	}
	text := applet(t, img, myna.Text)
	if k := text.Keys["0012"]; k.Remaining != 0 || k.Value != nil {
		t.Fatal("text key 0012 not issued blocked")
	}
	if got := text.Files["0002"].Access; got != "pin:0011|pin:0015" {
		t.Fatalf("text EF 0002 access %q", got)
	}
	jp := applet(t, img, myna.JPKI)
	if jp.Files["001A"].Access != "pin:001B" || jp.Files["0017"].Access != "pin:0018" || jp.Files["000A"].Access != "none" {
		t.Fatal("JPKI key EF access wrong")
	}
	if jp.Keys["0018"].Max != 3 || jp.Keys["001B"].Max != 5 || text.Keys["0015"].Max != 10 {
		t.Fatal("max tries wrong")
	}
	tok := fileData(t, img, myna.JPKI, myna.JPKIToken)
	if len(tok) != 160 || string(tok[:32]) != "JPKIAPICCTOKEN2                 " {
		t.Fatalf("token %q", tok[:32])
	}
	if !bytes.Equal(fileData(t, img, myna.JPKI, myna.JPKICertPresent), []byte{0x8F, 0x8F, 0x00}) {
		t.Fatal("EF 0008")
	}
	rec := applet(t, img, myna.Common).Files["0001"].Records
	if len(rec) != 1 || string(rec[0]) != "\x01\x1c40000001271984313221"+"20350217" {
		t.Fatalf("common record %q", rec)
	}
	if !bytes.Equal(img.ATR, []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}) ||
		!bytes.Equal(img.GetData["5F51"], img.ATR[1:]) ||
		string(img.GetData["00F0"]) != "13221" || string(img.GetData["00F2"]) != "20350217" {
		t.Fatal("ATR / MF objects")
	}
}

// TestSignatures re-checks every signature of the default image with code
// independent of the builder: TLVs parsed with apdu, digests recomputed,
// keys taken from the CV certificates and TestCVKeysJSON.
func TestSignatures(t *testing.T) {
	img := mustBuild(t, Default())
	cas := cvKeys(t)

	// MF chain: 00F8 under the root, 7F21 under the key 00F8 certifies.
	sub, interPub := checkCV(t, "GET DATA 00F8", img.GetData["00F8"], cas)
	if !bytes.Equal(sub, img.GetData["00F7"]) || sub[15] != 0xA8 || string(sub[:7]) != "6990021" {
		t.Fatalf("00F8 subject % X, 00F7 % X", sub, img.GetData["00F7"])
	}
	low, lowPub := checkCV(t, "GET DATA 7F21", img.GetData["7F21"], map[string]*rsa.PublicKey{string(sub): interPub})
	if low[15] != 0xA8 {
		t.Fatalf("7F21 subject % X", low)
	}

	// Text AP.
	cv := object(t, fileData(t, img, myna.Text, myna.TextCVCert))
	if cv.Tag != 0x7F21 || len(cv.Raw) != 568 {
		t.Fatalf("text EF 0004: tag %X, %d bytes", cv.Tag, len(cv.Raw))
	}
	_, textAP := checkCV(t, "text EF 0004", cv.Value, cas)
	my := fileData(t, img, myna.Text, myna.TextMyNumber)
	attrs := object(t, fileData(t, img, myna.Text, myna.TextAttributes))
	ak := children(t, attrs, 0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25)
	integ := children(t, object(t, fileData(t, img, myna.Text, myna.TextIntegrity)), 0xDF31, 0xDF32, 0xDF33)
	h31 := sha256.Sum256(my)
	h32 := sha256.Sum256(bytes.Join([][]byte{ak[1].Raw, ak[2].Raw, ak[3].Raw, ak[4].Raw}, nil))
	if !bytes.Equal(integ[0].Value, h31[:]) || !bytes.Equal(integ[1].Value, h32[:]) {
		t.Error("text integrity digests")
	}
	verifySHA256(t, "text DF33", textAP, append(append([]byte{}, integ[0].Raw...), integ[1].Raw...), integ[2].Value)
	sk := children(t, object(t, fileData(t, img, myna.Text, myna.TextSignedKey)), 0xDF51, 0xDF52)
	verifySHA256(t, "text DF52", textAP, sk[0].Raw, sk[1].Value)
	textCard := cardPub(t, sk[0].Value)
	sm := object(t, fileData(t, img, myna.Text, myna.TextSMKey))
	if sm.Tag != 0xA1 || len(sm.Raw) != 269 {
		t.Fatalf("text EF 0006: %X, %d bytes", sm.Tag, len(sm.Raw))
	}
	smPub := cardPub(t, sm.Value)
	if smPub.N.Cmp(textCard.N) == 0 || smPub.N.Cmp(textAP.N) == 0 {
		t.Error("the SM key must differ from the EF 0004 and EF 0007 keys")
	}
	children(t, object(t, fileData(t, img, myna.Text, myna.TextBasicInfo)), 0xDF41, 0xDF42, 0xDF43)

	// Offset tables point at the tags.
	checkOffsets(t, "text EF 0002", fileData(t, img, myna.Text, myna.TextAttributes), ak)

	// Surface AP.
	cv = object(t, fileData(t, img, myna.Surface, myna.SurfaceCVCert))
	if len(cv.Raw) != 568 {
		t.Fatalf("surface EF 0004 %d bytes", len(cv.Raw))
	}
	subj, surfAP := checkCV(t, "surface EF 0004", cv.Value, cas)
	if string(subj[:7]) != "1322121" {
		t.Errorf("surface CV subject %q", subj)
	}
	age := children(t, object(t, fileData(t, img, myna.Surface, myna.SurfaceAgeRecord)), 0xDF11, 0xDF12, 0xDF13)
	verifySHA256(t, "surface DF13", surfAP, append(append([]byte{}, age[0].Raw...), age[1].Raw...), age[2].Value)
	card := cardPub(t, age[1].Value)
	faceData := fileData(t, img, myna.Surface, myna.SurfaceFace)
	face := object(t, faceData)
	fk := children(t, face, 0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25, 0xDF26, 0xDF27, 0xDF28, 0xDF29, 0xDF2A)
	checkOffsets(t, "surface EF 0002", faceData, fk)
	h1 := sha256.Sum256(bytes.Join([][]byte{fk[1].Raw, fk[2].Raw, fk[3].Raw}, nil))
	h2 := sha256.Sum256(bytes.Join([][]byte{fk[4].Raw, fk[5].Raw}, nil))
	h3 := sha256.Sum256(fk[6].Raw)
	di, _ := hex.DecodeString("3071300d060960864801650304020105000460")
	di = append(append(append(di, h1[:]...), h2[:]...), h3[:]...)
	if len(di) != 115 {
		t.Fatal("digest info length")
	}
	if err := rsa.VerifyPKCS1v15(surfAP, crypto.Hash(0), di, fk[7].Value); err != nil {
		t.Errorf("card-face DF28: %v", err)
	}
	if err := rsa.VerifyPKCS1v15(card, crypto.Hash(0), di, fk[7].Value); err == nil {
		t.Error("card key verifies DF28; it must not")
	}
	if cardPub(t, fk[3].Value).N.Cmp(card.N) != 0 || card.N.Cmp(lowPub.N) != 0 {
		t.Error("card key differs between DF12, DF24 and MF 7F21")
	}
	if string(fk[1].Value) != "19800217" || string(fk[2].Value) != "1" || string(fk[8].Value) != "20350217" {
		t.Error("card face fields")
	}
	if !bytes.HasPrefix(fk[6].Value, []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}) {
		t.Error("DF27 is not JP2")
	}
	for i, k := range []ber.TLV{fk[4], fk[5], fk[9]} {
		if !bytes.HasPrefix(k.Value, []byte("\x89PNG\r\n\x1a\n")) || k.Value[24] != 1 || k.Value[25] != 0 {
			t.Errorf("image %d is not a 1-bit greyscale PNG", i)
		}
	}
	num := children(t, object(t, fileData(t, img, myna.Surface, myna.SurfaceMyNumberImg)), 0xDF41, 0xDF42, 0xDF43)
	verifySHA256(t, "surface EF 0005 DF43", surfAP, append(append([]byte{}, num[0].Raw...), num[1].Raw...), num[2].Value)
	info := object(t, fileData(t, img, myna.Surface, myna.SurfaceBasicInfo))
	ik := children(t, info, 0xDF31, 0xDF32, 0xDF33, 0xDF34, 0xDF35)
	if string(ik[3].Value) != "13221" || len(ik[4].Value) != 272 {
		t.Error("surface EF 0003")
	}

	// Private keys match the public halves on the card.
	for _, c := range []struct {
		a   myna.Applet
		fid string
		pub *rsa.PublicKey
	}{{myna.Surface, "001A", card}, {myna.Text, "0013", textCard}} {
		blk, _ := pem.Decode([]byte(applet(t, img, c.a).PrivateKeys[c.fid]))
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil || k.(*rsa.PrivateKey).N.Cmp(c.pub.N) != 0 {
			t.Errorf("%s %s private key does not match the card's public key", c.a, c.fid)
		}
	}

	// No simulator key ID collides with production or the real JPKI-TEST keys.
	for _, id := range []KeyID{IDCVRoot, IDCVInter, IDMFLower, IDCVSurfaceCA, IDCVTextCA, IDSurfaceInfo, IDCodeCrypt, IDTextInfo, IDKeyRef} {
		if id[0] == '5' || strings.HasPrefix(id.String(), "6000") {
			t.Errorf("key ID %s collides with a J-LIS hierarchy", id)
		}
	}
}

func checkOffsets(t *testing.T, what string, file []byte, kids []ber.TLV) {
	t.Helper()
	table := kids[0].Value
	if len(table) != 2*(len(kids)-1) {
		t.Fatalf("%s: offset table of %d bytes for %d fields", what, len(table), len(kids)-1)
	}
	for i, k := range kids[1:] {
		off := int(table[2*i])<<8 | int(table[2*i+1])
		if !bytes.HasPrefix(file[off:], k.Raw) {
			t.Errorf("%s: offset %d of field %X does not point at it", what, off, k.Tag)
		}
	}
}

func TestX509(t *testing.T) {
	img := mustBuild(t, Default())
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(TestRootsPEM()) {
		t.Fatal("TestRootsPEM does not parse")
	}
	parse := func(fid uint16) *x509.Certificate {
		data := fileData(t, img, myna.JPKI, fid)
		if data[0] != 0x30 || data[1] != 0x82 {
			t.Fatalf("EF %04X does not start 30 82", fid)
		}
		size := int(data[2])<<8 | int(data[3]) + 4
		if len(data) <= size || data[size] != 0xFF {
			t.Fatalf("EF %04X: no FF filler after the certificate", fid)
		}
		c, err := x509.ParseCertificate(data[:size])
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	auth, sign := parse(myna.JPKIAuthCert), parse(myna.JPKISignCert)
	authRoot, signRoot := parse(myna.JPKIAuthCACert), parse(myna.JPKISignCACert)
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		leaf, root *x509.Certificate
	}{{auth, authRoot}, {sign, signRoot}} {
		if _, err := c.leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s: %v", c.leaf.Subject, err)
		}
		if err := c.leaf.CheckSignatureFrom(c.root); err != nil {
			t.Error(err)
		}
		if !bytes.Equal(c.leaf.AuthorityKeyId, c.root.SubjectKeyId) || len(c.leaf.SubjectKeyId) == 0 {
			t.Error("SKI/AKI")
		}
		if c.root.Subject.Organization[0] != SimOrganization || len(c.root.Subject.OrganizationalUnit) != 2 {
			t.Errorf("root DN %s", c.root.Subject)
		}
	}
	if auth.KeyUsage != x509.KeyUsageDigitalSignature || len(auth.DNSNames)+len(auth.Extensions) == 0 {
		t.Error("auth key usage")
	}
	for _, e := range auth.Extensions {
		if e.Id.Equal(oidSAN) {
			t.Error("auth certificate has a SAN")
		}
	}
	if auth.NotAfter != time.Date(2030, 2, 17, 14, 59, 59, 0, time.UTC) || auth.NotBefore != time.Date(2025, 10, 26, 15, 0, 0, 0, time.UTC) {
		t.Errorf("auth validity %s - %s", auth.NotBefore, auth.NotAfter)
	}
	if sign.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Error("sign key usage")
	}
	// SAN otherNames, parsed independently.
	var san []byte
	for _, e := range sign.Extensions {
		if e.Id.Equal(oidSAN) {
			san = e.Value
		}
		if e.Id.Equal(oidPolicies) && !e.Critical {
			t.Error("policies not critical")
		}
	}
	var names []asn1.RawValue
	if _, err := asn1.Unmarshal(san, &names); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range names {
		if n.Tag != 0 || n.Class != asn1.ClassContextSpecific {
			t.Fatal("SAN entry is not an otherName")
		}
		var oid asn1.ObjectIdentifier
		rest, err := asn1.Unmarshal(n.Bytes, &oid)
		if err != nil {
			t.Fatal(err)
		}
		var wrapper asn1.RawValue
		if _, err := asn1.Unmarshal(rest, &wrapper); err != nil || wrapper.Tag != 0 || !wrapper.IsCompound {
			t.Fatal("otherName value is not [0] EXPLICIT")
		}
		var s string
		if _, err := asn1.UnmarshalWithParams(wrapper.Bytes, &s, "utf8"); err != nil {
			t.Fatal(err)
		}
		got[oid.String()] = s
	}
	want := map[string]string{
		"1.2.392.200149.8.5.5.1": "黒桐　幹也",
		"1.2.392.200149.8.5.5.2": "00000",
		"1.2.392.200149.8.5.5.3": "1",
		"1.2.392.200149.8.5.5.4": "319800217",
		"1.2.392.200149.8.5.5.5": "東京都清瀬市観布子南１２－７－２０２",
		"1.2.392.200149.8.5.5.6": "000000000000000000",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SAN = %v", got)
	}
	// Private keys match the certificates.
	jp := applet(t, img, myna.JPKI)
	for fid, cert := range map[string]*x509.Certificate{"0017": auth, "001A": sign} {
		blk, _ := pem.Decode([]byte(jp.PrivateKeys[fid]))
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil || k.(*rsa.PrivateKey).N.Cmp(cert.PublicKey.(*rsa.PublicKey).N) != 0 {
			t.Errorf("private key %s does not match its certificate", fid)
		}
	}
}

func TestEraBoundaries(t *testing.T) {
	for birth, want := range map[string]string{
		"1989-01-07": "640107", "1989-01-08": "010108",
		"2019-04-30": "310430", "2019-05-01": "010501",
	} {
		p := Default()
		p.BirthDate = birth
		p.CertIssued = "2025-10-27"
		img := mustBuild(t, p)
		surf := applet(t, img, myna.Surface)
		if v := surf.Keys["0011"].Value; v == nil || string(*v) != want {
			t.Errorf("%s: birth key %v, want %s", birth, v, want)
		}
		if v := surf.Keys["0012"].Value; v == nil || string(*v) != want+"20352285" {
			t.Errorf("%s: 照合番号B wrong", birth)
		}
		if v := applet(t, img, myna.Text).Keys["0015"].Value; v == nil || string(*v) != want+"20352285" {
			t.Errorf("%s: text 照合番号B wrong", birth)
		}
	}
}

func TestAndroidToken(t *testing.T) {
	p := Default()
	p.Token = jpki.TokenAndroid
	p.Remaining = map[myna.KeyName]int{"jpki-auth-pin": 1}
	img := mustBuild(t, p)
	if len(img.Applets) != 1 || len(img.GetData) != 0 {
		t.Fatalf("android image has %d applets", len(img.Applets))
	}
	jp := applet(t, img, myna.JPKI)
	if jp.Files["000A"].Access != "pin:0018" {
		t.Error("000A must need the auth PIN on the android token")
	}
	if jp.Keys["0018"].Remaining != 1 || jp.Keys["0018"].Max != 3 {
		t.Error("remaining override")
	}
	if tok := fileData(t, img, myna.JPKI, myna.JPKIToken); string(tok[:32]) != "JPKIAPGPSETOKEN                 " {
		t.Errorf("label %q", tok[:32])
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	photo, _ := defaultPhoto()
	if err := os.WriteFile(filepath.Join(dir, "me.jp2"), photo, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "bad.jp2"), []byte("\xff\xd8\xff\xe0 not a jp2 file at all"), 0o600)
	path := filepath.Join(dir, "p.json")
	os.WriteFile(path, []byte(`{"name":"山田　花子","sex":"2","photo":"me.jp2","remaining":{"surface-code-b":0}}`), 0o600)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "山田　花子" || p.MyNumber != "537686677188" {
		t.Fatal("Load does not fill defaults")
	}
	img := mustBuild(t, p)
	if applet(t, img, myna.Surface).Keys["0012"].Remaining != 0 {
		t.Error("remaining override")
	}
	os.WriteFile(path, []byte(`{"photo":"bad.jp2"}`), 0o600)
	if _, err := Load(path); err == nil {
		t.Error("a non-JP2 photo was accepted")
	}
	os.WriteFile(path, []byte(`{"nmae":"x"}`), 0o600)
	if _, err := Load(path); err == nil {
		t.Error("an unknown member was accepted")
	}
	// Default's JSON loads back to Default.
	js, _ := Default().JSON()
	q, err := Parse(js)
	if err != nil || !reflect.DeepEqual(q, Default()) {
		t.Fatalf("Default JSON round trip: %v", err)
	}
}

// TestTrustFiles keeps simulator/testdata/trust equal to what the code
// returns (go test ./simulator/persona -run TestTrustFiles -update rewrites them).
func TestTrustFiles(t *testing.T) {
	files := map[string][]byte{
		"../testdata/trust/sim-roots.pem":       TestRootsPEM(),
		"../testdata/trust/sim-cv-ca-keys.json": TestCVKeysJSON(),
	}
	for path, want := range files {
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the code; run go test ./simulator/persona -run TestTrustFiles -update", path)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	p := Default()
	if _, err := Build(p); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLongFields builds a holder whose address and name need long-form
// lengths (82 00 xx for 128-255 bytes) and checks offsets and signatures.
func TestLongFields(t *testing.T) {
	p := Default()
	p.Name = strings.Repeat("長", 45) // 135 bytes
	p.Address = strings.Repeat("東京都清瀬市観布子南１２－７－２０２", 3)
	img := mustBuild(t, p)
	data := fileData(t, img, myna.Text, myna.TextAttributes)
	attrs := object(t, data)
	kids := children(t, attrs, 0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25)
	checkOffsets(t, "text EF 0002", data, kids)
	if !bytes.HasPrefix(kids[1].Raw, []byte{0xDF, 0x22, 0x82, 0x00, 135}) {
		t.Errorf("DF22 header % X", kids[1].Raw[:5])
	}
	face := fileData(t, img, myna.Surface, myna.SurfaceFace)
	fk := children(t, object(t, face), 0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25, 0xDF26, 0xDF27, 0xDF28, 0xDF29, 0xDF2A)
	checkOffsets(t, "surface EF 0002", face, fk)
	if len(face) > 0x8000 {
		t.Errorf("card face EF of %d bytes", len(face))
	}
}
