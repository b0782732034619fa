package mynakit_test

import (
	"context"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/trust"
)

// A full read of the default persona costs at most 28 APDUs (the e2e suite
// counts them again in pcscd's own log), and fewer bytes never mean fewer
// checks: every check the verdict rule needs for a full read is made.
//
// 28 = 22 before issue 14, + 3 for the text applet's presence proof (EF
// 0007, GET CHALLENGE, the signature), + 3 SELECTs with which the read
// learns that the card face, the 共通AP and the JPKI applet are there
// before it asks for the PIN.
func TestReadPlan(t *testing.T) {
	var ins []byte
	count := simulator.WithFault(func(c apdu.Command) (uint16, bool) { ins = append(ins, c.INS); return 0, false })
	r := read(t, simtest.Image(t), mynakit.ReadOptions{}, count)
	if n := len(ins); n > 28 || int64(n) != r.Stats.Commands {
		t.Fatalf("%d APDUs (report says %d), want at most 28", n, r.Stats.Commands)
	}
	// SFI addressing: applets are selected, EFs never are — each applet
	// once to learn it is there, then once to read it, the first one
	// (the text applet) only once.
	selects, signs := 0, 0
	for _, b := range ins {
		switch b {
		case 0xA4:
			selects++
		case 0x2A:
			signs++
		}
	}
	if selects > 7 {
		t.Errorf("%d SELECTs for four applets, want at most 7", selects)
	}
	if signs != 2 {
		t.Errorf("%d signatures, want one presence proof per card-surface applet", signs)
	}
	for _, name := range []trust.CheckName{
		trust.CheckTextFormat, trust.CheckTextCV, trust.CheckTextMyNumberDigest, trust.CheckTextAttrDigest, trust.CheckTextIntegrity, trust.CheckTextCheckDigit,
		trust.CheckTextSignedKey, trust.CheckPresenceText,
		trust.CheckSurfaceFormat, trust.CheckSurfaceCV, trust.CheckSurfaceFace, trust.CheckPresenceSurface, trust.CheckBindingCodeA,
		trust.CheckCommonFormat, trust.CheckCardToken, trust.CheckCardApplets, trust.CheckAuthCert,
		trust.CheckBirthDate, trust.CheckSex, trust.CheckExpiry,
	} {
		mustCheck(t, r, name, trust.Pass)
	}
	// The MF chain and the card's CA certificates are for --thorough only.
	for _, name := range []trust.CheckName{trust.CheckChainRoot, trust.CheckAuthCACert, trust.CheckSignCACert} {
		if _, ok := r.Check(name); ok {
			t.Errorf("%s made in a default read", name)
		}
	}
}

// Results arrive as they are verified: the text part's facts come before
// the card face's photo, and each part's event carries its checks.
func TestProgressDeliversPartsAsVerified(t *testing.T) {
	var parts []mynakit.Part
	var textBeforeFace bool
	c := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN)})
	_, err := c.Read(context.Background(), mynakit.ReadOptions{Progress: func(p mynakit.Progress) {
		if !p.Done {
			return
		}
		parts = append(parts, p.Part)
		if p.Part == mynakit.PartText {
			textBeforeFace = p.Report.Text != nil && p.Report.Surface == nil && len(p.Report.Checks) > 0
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 4 || parts[0] != mynakit.PartText || !textBeforeFace {
		t.Fatalf("parts in order %v (text first, alone: %v)", parts, textBeforeFace)
	}
}

func BenchmarkFullRead(b *testing.B) {
	img := simtest.Image(b)
	answer := pin.PromptFunc(func(context.Context, pin.Request) ([]byte, error) { return []byte(simtest.PIN), nil })
	var st mynakit.Report
	for b.Loop() {
		c, err := mynakit.OpenTransport(simtest.Sim(b, img), "bench", mynakit.OpenOptions{Prompter: answer})
		if err != nil {
			b.Fatal(err)
		}
		r, err := c.Read(context.Background(), mynakit.ReadOptions{})
		c.Close()
		if err != nil || r.Verdict != trust.Genuine {
			b.Fatal(err, r.Verdict)
		}
		st = *r
	}
	b.ReportMetric(float64(st.Stats.Commands), "APDUs/read")
	b.ReportMetric(float64(st.Stats.BytesReceived), "bytes-received/read")
	b.ReportMetric(float64(st.Stats.BytesSent), "bytes-sent/read")
}

// BenchmarkVerify is the verification CPU of a full read: every signature
// and digest check on bytes already read (target: under 5 ms).
func BenchmarkVerify(b *testing.B) {
	r, err := simtest.Read(b, simtest.Image(b), mynakit.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	store := simtest.Store(b)
	t, s := r.TextData(), r.SurfaceData()
	for b.Loop() {
		cardap.VerifyText(t.Raw, store)
		cardap.VerifySurface(s.Raw, store)
		store.VerifyCertificate(r.JPKI.AuthCertificate, trust.CertOptions{Name: trust.CheckAuthCert})
	}
}

// A reader that carries short APDUs only is read with 256-byte chunks:
// told so by the transport, or by a first extended read it refuses (the
// reader's limit is learnt once per connection).
func TestShortAPDUReader(t *testing.T) {
	full := read(t, simtest.Image(t), mynakit.ReadOptions{})
	told := read(t, simtest.Image(t), mynakit.ReadOptions{}, simulator.WithShortAPDUsOnly())
	c, err := mynakit.OpenTransport(plain{simtest.Sim(t, simtest.Image(t), simulator.WithShortAPDUsOnly())}, "short", mynakit.OpenOptions{Prompter: simtest.NewPrompter(simtest.PIN), TrustDirs: []string{simtest.TrustDir(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	probed, err := c.Read(context.Background(), mynakit.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*mynakit.Report{"told": told, "probed": probed} {
		if r.Verdict != trust.Genuine || r.Text.Name != full.Text.Name || len(r.Surface.Photo) != len(full.Surface.Photo) {
			t.Fatalf("%s: %s", name, r.Verdict)
		}
	}
	if told.Stats.Commands <= full.Stats.Commands || probed.Stats.Commands != told.Stats.Commands+1 {
		t.Errorf("APDUs: extended %d, short %d, probed %d (one refused probe more)", full.Stats.Commands, told.Stats.Commands, probed.Stats.Commands)
	}
}
