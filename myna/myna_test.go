package myna

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAIDs pins the DF names to the bytes the card answers to (docs/card.md
// §1.1) and checks that AppletByAID finds each one back.
func TestAIDs(t *testing.T) {
	want := map[Applet]string{
		JPKI:    "D392F000260100000001",
		Text:    "D3921000310001010408",
		Surface: "D3921000310001010402",
		Common:  "D3921000310001010100",
		Juki:    "D3921000310001010401",
	}
	if len(AllApplets()) != len(want) {
		t.Fatalf("AllApplets lists %d applets, want %d", len(AllApplets()), len(want))
	}
	seen := map[string]bool{}
	for _, a := range AllApplets() {
		got := fmt.Sprintf("%X", a.AID())
		if got != want[a] {
			t.Errorf("%s AID = %s, want %s", a, got, want[a])
		}
		if len(a.AID()) != 10 {
			t.Errorf("%s AID has %d bytes, want 10", a, len(a.AID()))
		}
		if seen[got] {
			t.Errorf("AID %s used twice", got)
		}
		seen[got] = true
		back, ok := AppletByAID(a.AID())
		if !ok || back != a {
			t.Errorf("AppletByAID(%s) = %v, %v; want %v", got, back, ok, a)
		}
	}
	// A prefix of an AID or an unknown one names no applet: the card may
	// match partial names, the library must not.
	for _, aid := range [][]byte{JPKI.AID()[:9], ISDAID(), nil, append(Text.AID(), 0)} {
		if a, ok := AppletByAID(aid); ok {
			t.Errorf("AppletByAID(%X) = %v, want none", aid, a)
		}
	}
	if got := fmt.Sprintf("%X", ISDAID()); got != "A0000001510000" {
		t.Errorf("ISDAID = %s", got)
	}
}

// TestAIDIsACopy: a caller that scribbles on the slice it got does not
// change the table.
func TestAIDIsACopy(t *testing.T) {
	a := JPKI.AID()
	a[0] = 0
	if JPKI.AID()[0] != 0xD3 {
		t.Fatal("AID handed out the table itself")
	}
	i := ISDAID()
	i[0] = 0
	if ISDAID()[0] != 0xA0 {
		t.Fatal("ISDAID handed out shared bytes")
	}
	if Applet(99).AID() != nil {
		t.Error("an unknown applet has an AID")
	}
}

func TestAppletNames(t *testing.T) {
	names := map[Applet][2]string{
		JPKI:    {"jpki", "公的個人認証AP"},
		Text:    {"text", "券面事項入力補助AP"},
		Surface: {"surface", "券面事項確認AP"},
		Common:  {"common", "共通AP"},
		Juki:    {"juki", "住基AP"},
	}
	for a, n := range names {
		if a.Name() != n[0] || a.String() != n[0] || a.JapaneseName() != n[1] {
			t.Errorf("%d: names %q %q %q, want %q %q", a, a.Name(), a.String(), a.JapaneseName(), n[0], n[1])
		}
	}
	if Applet(0).Name() != "applet(0)" || Applet(7).JapaneseName() != "applet(7)" {
		t.Errorf("unknown applet names: %q %q", Applet(0).Name(), Applet(7).JapaneseName())
	}
}

// TestKeyTable checks the key EFs against docs/card.md §3.1 and that the
// lookups agree with the table.
func TestKeyTable(t *testing.T) {
	type row struct {
		applet Applet
		fid    uint16
		secret Secret
		change byte
		max    int
	}
	want := map[KeyName]row{
		KeyJPKIAuthPIN:      {JPKI, 0x0018, ShortPIN, 0x24, 3},
		KeyJPKISignPassword: {JPKI, 0x001B, SignPassword, 0x24, 5},
		KeyTextPIN:          {Text, 0x0011, ShortPIN, 0x24, 3},
		KeyTextCodeA:        {Text, 0x0014, CodeA, 0, 10},
		KeyTextCodeB:        {Text, 0x0015, CodeB, 0, 10},
		KeySurfaceBirth:     {Surface, 0x0011, BirthKey, 0, 10},
		KeySurfaceCodeA:     {Surface, 0x0013, CodeA, 0, 10},
		KeySurfaceCodeB:     {Surface, 0x0012, CodeB, 0, 10},
		KeyCommonPIN:        {Common, 0x001C, ShortPIN, 0x32, 3},
		KeyJukiPIN:          {Juki, 0x001C, ShortPIN, 0x32, 3},
	}
	keys := AllKeys()
	if len(keys) != len(want) {
		t.Fatalf("AllKeys has %d keys, want %d", len(keys), len(want))
	}
	for _, k := range keys {
		w, ok := want[k.Name]
		if !ok {
			t.Errorf("unexpected key %q", k.Name)
			continue
		}
		if k.Applet != w.applet || k.FID != w.fid || k.Secret != w.secret || k.Change != w.change || k.MaxTries != w.max {
			t.Errorf("%s = %+v, want %+v", k.Name, k, w)
		}
		// The municipal rules fix the PIN and password counters; only
		// the codes, the birth key and the 共通AP PIN rest on assumptions.
		if k.Applet == JPKI || k.Name == KeyTextPIN || k.Name == KeyJukiPIN {
			if k.MaxAssumed {
				t.Errorf("%s: a documented limit is marked assumed", k.Name)
			}
		}
		if got, ok := KeyByName(k.Name); !ok || got != k {
			t.Errorf("KeyByName(%s) = %+v, %v", k.Name, got, ok)
		}
		if got, ok := KeyAt(k.Applet, k.FID); !ok || got.Name != k.Name {
			t.Errorf("KeyAt(%s, %04X) = %s, %v", k.Applet, k.FID, got.Name, ok)
		}
		if MustKey(k.Name) != k {
			t.Errorf("MustKey(%s) differs", k.Name)
		}
	}
	for _, name := range ShortPINKeys() {
		if k := MustKey(name); k.Secret != ShortPIN || k.MaxTries != 3 {
			t.Errorf("short PIN %s: secret %v, %d tries", name, k.Secret, k.MaxTries)
		}
	}
	if _, ok := KeyByName("no-such-key"); ok {
		t.Error("KeyByName found an unknown name")
	}
	if _, ok := KeyAt(Text, 0x0012); ok {
		t.Error("the blocked key 0012 is not a user key")
	}
	defer func() {
		if recover() == nil {
			t.Error("MustKey of an unknown name did not panic")
		}
	}()
	MustKey("no-such-key")
}

func TestSecretNames(t *testing.T) {
	for s, want := range map[Secret]string{ShortPIN: "short PIN", SignPassword: "signing password",
		CodeA: "照合番号A", CodeB: "照合番号B", BirthKey: "birth-date key", Secret(0): "secret(0)"} {
		if s.String() != want {
			t.Errorf("Secret(%d) = %q, want %q", int(s), s.String(), want)
		}
	}
}

// TestOpeners is the access table of docs/card.md §3.5.
func TestOpeners(t *testing.T) {
	type file struct {
		a   Applet
		fid uint16
	}
	want := map[file][]uint16{
		{JPKI, JPKISignCert}:          {JPKISignPIN},
		{JPKI, JPKISignCACert}:        nil,
		{JPKI, JPKIToken}:             nil,
		{JPKI, JPKICertPresent}:       nil,
		{JPKI, JPKIAuthCert}:          nil,
		{JPKI, JPKIAuthCACert}:        nil,
		{JPKI, JPKIAuthKey}:           {JPKIAuthPIN},
		{JPKI, JPKISignKey}:           {JPKISignPIN},
		{Text, TextMyNumber}:          {TextPIN, TextCodeA},
		{Text, TextAttributes}:        {TextPIN, TextCodeB},
		{Text, TextIntegrity}:         {TextPIN, TextCodeA, TextCodeB},
		{Text, TextSMKey}:             {TextPIN, TextCodeA, TextCodeB},
		{Text, TextSignedKey}:         {TextPIN, TextCodeA, TextCodeB},
		{Text, TextCVCert}:            nil,
		{Text, TextBasicInfo}:         nil,
		{Surface, SurfaceAgeRecord}:   {SurfaceBirthKey},
		{Surface, SurfaceFace}:        {SurfaceCodeA, SurfaceCodeB},
		{Surface, SurfaceMyNumberImg}: {SurfaceCodeA},
		{Surface, SurfaceBasicInfo}:   nil,
		{Surface, SurfaceCVCert}:      nil,
		{Common, CommonInfo}:          nil,
		{Common, CommonKeyRef}:        nil,
		{Juki, JukiKeyRef}:            nil,
	}
	for f, w := range want {
		got, ok := Openers(f.a, f.fid)
		if !ok || fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("Openers(%s, %04X) = %v, %v; want %v", f.a, f.fid, got, ok, w)
		}
		// Every opener is a key EF of the same applet that the holder
		// can enter (JPKI private keys open with their PIN).
		for _, k := range got {
			if _, ok := KeyAt(f.a, k); !ok {
				t.Errorf("Openers(%s, %04X) names %04X, which is no user key of the applet", f.a, f.fid, k)
			}
		}
	}
	// 照合番号B does not open the 個人番号 EF, nor 照合番号A the 基本4情報.
	for _, bad := range []struct {
		fid, key uint16
	}{{TextMyNumber, TextCodeB}, {TextAttributes, TextCodeA}} {
		got, _ := Openers(Text, bad.fid)
		for _, k := range got {
			if k == bad.key {
				t.Errorf("key %04X opens text EF %04X", bad.key, bad.fid)
			}
		}
	}
	for _, f := range []file{{Text, 0x0008}, {Surface, 0x0006}, {Common, 0x0003}, {Juki, 0x0001}, {Applet(0), 1}} {
		if _, ok := Openers(f.a, f.fid); ok {
			t.Errorf("Openers(%s, %04X) claims to know an unnamed file", f.a, f.fid)
		}
	}
}

// TestObjectSizes derives each fixed object size from the TLV layout of
// docs/card.md §2: header plus the fixed-length fields inside.
func TestObjectSizes(t *testing.T) {
	tlv := func(tagLen, value int) int { // tag bytes + length bytes + value
		l := 1
		switch {
		case value >= 256:
			l = 3
		case value >= 128:
			l = 2
		}
		return tagLen + l + value
	}
	rsaKey := 5 + 4 + 256 // 90 03 01 00 01 ‖ 91 82 01 00 ‖ modulus
	cvBody := 16 + 16 + rsaKey
	want := []struct {
		a    Applet
		fid  uint16
		size int
	}{
		{Text, TextMyNumber, 17},
		{Text, TextIntegrity, tlv(2, tlv(2, 32)+tlv(2, 32)+tlv(2, 256))},
		{Text, TextCVCert, tlv(2, tlv(2, cvBody)+tlv(2, 256))},
		{Text, TextSMKey, tlv(1, 5+4+256)},
		{Text, TextSignedKey, tlv(2, tlv(2, rsaKey)+tlv(2, 256))},
		{Surface, SurfaceAgeRecord, tlv(2, tlv(2, 8)+tlv(2, rsaKey)+tlv(2, 256))},
		// The sources give this one by its header, FF 30 82 01 37; the
		// fields they list add up to 4 bytes more (docs/card.md §2.3).
		{Surface, SurfaceBasicInfo, 5 + 0x137},
		{Surface, SurfaceCVCert, tlv(2, tlv(2, cvBody)+tlv(2, 256))},
		{JPKI, JPKIToken, 32},
	}
	for _, w := range want {
		if got := ObjectSize(w.a, w.fid); got != w.size {
			t.Errorf("ObjectSize(%s, %04X) = %d, want %d", w.a, w.fid, got, w.size)
		}
	}
	// Spot values from the reference, so the derivation itself is checked.
	if ObjectSize(Text, TextIntegrity) != 336 || ObjectSize(Text, TextCVCert) != 568 || ObjectSize(Surface, SurfaceAgeRecord) != 547 {
		t.Error("fixed sizes differ from 336 / 568 / 547")
	}
	for _, v := range []struct {
		a   Applet
		fid uint16
	}{{Text, TextAttributes}, {Surface, SurfaceFace}, {JPKI, JPKIAuthCert}, {Common, CommonInfo}} {
		if ObjectSize(v.a, v.fid) != 0 {
			t.Errorf("ObjectSize(%s, %04X) fixed for a file that varies", v.a, v.fid)
		}
	}
}

func TestRevealsMyNumber(t *testing.T) {
	for _, a := range AllApplets() {
		for fid := uint16(1); fid <= 0x1E; fid++ {
			want := (a == Text && (fid == TextMyNumber || fid == TextIntegrity)) || (a == Surface && fid == SurfaceMyNumberImg)
			if RevealsMyNumber(a, fid) != want {
				t.Errorf("RevealsMyNumber(%s, %04X) = %v", a, fid, !want)
			}
		}
	}
}

func TestDigits(t *testing.T) {
	for _, c := range []struct {
		s  string
		n  int
		ok bool
	}{
		{"1234", 4, true}, {"0000", 4, true}, {"123", 4, false}, {"12345", 4, false},
		{"12a4", 4, false}, {"", 0, true}, {"１２３４", 4, false}, {"12/4", 4, false}, {"12:4", 4, false},
	} {
		if Digits(c.s, c.n) != c.ok {
			t.Errorf("Digits(%q, %d) = %v", c.s, c.n, !c.ok)
		}
	}
}

// lawCheckDigit is 総務省令第八十五号 第五条 written as the ordinance states it:
// digits counted from the right, weights n+1 then n-5 (docs/card.md §8).
func lawCheckDigit(first11 string) byte {
	sum := 0
	for n := 1; n <= 11; n++ {
		p := int(first11[11-n] - '0')
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += p * q
	}
	r := sum % 11
	if r <= 1 {
		return '0'
	}
	return byte('0' + 11 - r)
}

// TestCheckDigitAgainstTheLaw compares the implementation with the
// ordinance's own formulation on random and edge numbers, and checks that
// exactly one 12th digit completes each prefix.
func TestCheckDigitAgainstTheLaw(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prefixes := []string{"00000000000", "99999999999", "00000000001", "10000000000"}
	for range 2000 {
		prefixes = append(prefixes, fmt.Sprintf("%011d", rng.Int64N(1e11)))
	}
	for _, p := range prefixes {
		d, ok := CheckDigit(p)
		if !ok || d != lawCheckDigit(p) {
			t.Fatalf("CheckDigit(%s) = %c, %v; the ordinance gives %c", p, d, ok, lawCheckDigit(p))
		}
		valid := 0
		for c := byte('0'); c <= '9'; c++ {
			n := p + string(c)
			v := ValidMyNumber(n)
			if v != ValidMyNumberBytes([]byte(n)) {
				t.Fatalf("string and byte forms disagree on %s", n)
			}
			if v {
				valid++
			}
		}
		if valid != 1 {
			t.Fatalf("%s has %d valid check digits", p, valid)
		}
	}
	for _, bad := range []string{"", "1234567890", "123456789012", "1234567890a", " 2345678901", "1234567890\x00"} {
		if _, ok := CheckDigit(bad); ok {
			t.Errorf("CheckDigit(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"53768667718", "5376866771888", "53768667718８", "a37686677188"} {
		if ValidMyNumber(bad) || ValidMyNumberBytes([]byte(bad)) {
			t.Errorf("ValidMyNumber(%q) accepted", bad)
		}
	}
}

func TestEraOf(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	for _, c := range []struct {
		d    time.Time
		era  Era
		year int
	}{
		{time.Date(1868, 1, 25, 0, 0, 0, 0, time.UTC), Meiji, 1},
		{time.Date(1912, 7, 29, 0, 0, 0, 0, time.UTC), Meiji, 45},
		{time.Date(1912, 7, 30, 0, 0, 0, 0, time.UTC), Taisho, 1},
		{time.Date(1926, 12, 24, 0, 0, 0, 0, time.UTC), Taisho, 15},
		{time.Date(1926, 12, 25, 0, 0, 0, 0, time.UTC), Showa, 1},
		{time.Date(1989, 1, 7, 0, 0, 0, 0, time.UTC), Showa, 64},
		{time.Date(1989, 1, 8, 0, 0, 0, 0, time.UTC), Heisei, 1},
		{time.Date(2019, 4, 30, 0, 0, 0, 0, time.UTC), Heisei, 31},
		{time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC), Reiwa, 1},
		{time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Reiwa, 8},
		// Only the calendar day counts: the first minute of Reiwa in
		// Tokyo is Heisei 31 in UTC, yet the date printed is 2019-05-01.
		{time.Date(2019, 5, 1, 0, 0, 1, 0, jst), Reiwa, 1},
		{time.Date(2019, 4, 30, 23, 59, 59, 0, jst), Heisei, 31},
	} {
		era, y, err := EraOf(c.d)
		if err != nil || era != c.era || y != c.year {
			t.Errorf("EraOf(%s) = %v %d %v; want %v %d", c.d, era, y, err, c.era, c.year)
		}
	}
	if era, _, err := EraOf(time.Date(1868, 1, 24, 23, 0, 0, 0, time.UTC)); err == nil || era != EraUnknown {
		t.Errorf("a day before Meiji: %v, %v", era, err)
	}
}

func TestEraNames(t *testing.T) {
	for e, want := range map[Era]string{Meiji: "明治", Taisho: "大正", Showa: "昭和", Heisei: "平成", Reiwa: "令和", EraUnknown: "unknown era", Era(9): "unknown era"} {
		if e.String() != want {
			t.Errorf("Era(%d) = %q, want %q", int(e), e.String(), want)
		}
	}
	// The era digits are the JPKI signing certificate's (docs/card.md §5.2).
	if Meiji != 1 || Taisho != 2 || Showa != 3 || Heisei != 4 || Reiwa != 5 || EraUnknown != 0 {
		t.Error("era digits differ from the certificate's")
	}
}

// TestEraYYMMDDLimits: an era year of three digits cannot be written in a
// six-digit key.
func TestEraYYMMDDLimits(t *testing.T) {
	if got, err := EraYYMMDD(time.Date(2117, 12, 31, 0, 0, 0, 0, time.UTC)); err != nil || got != "991231" {
		t.Errorf("Reiwa 99: %q, %v", got, err)
	}
	if _, err := EraYYMMDD(time.Date(2118, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("Reiwa 100 fitted two digits")
	}
	// 照合番号B of the test card: era birth date ‖ expiry year ‖ code.
	b, err := EraYYMMDD(time.Date(1980, 2, 17, 0, 0, 0, 0, time.UTC))
	if err != nil || b+"2035"+"2285" != "55021720352285" {
		t.Errorf("照合番号B of the test card: %q, %v", b, err)
	}
}

// TestMyNumberEF: the physical 個人番号 EF of the test card hashes to the
// integrity-record digest of docs/card.md §5.6, and its size is the table's.
func TestMyNumberEF(t *testing.T) {
	ef := append([]byte{0xFF, 0x10, 0x0C}, "537686677188"...)
	ef = append(ef, 0xFF, 0xFF)
	if len(ef) != MyNumberEFBytes {
		t.Fatalf("EF of %d bytes, want %d", len(ef), MyNumberEFBytes)
	}
	sum := sha256.Sum256(ef)
	if fmt.Sprintf("%x", sum) != "6d5a4c1ef9ab15bf506862d7e66b9c0f179ca065bc936c8e634e9e57449ca9cd" {
		t.Errorf("digest %x", sum)
	}
	if !ValidMyNumberBytes(ef[3:15]) || !bytes.Equal(ef[3:15], []byte("537686677188")) {
		t.Error("test-card number invalid")
	}
}
