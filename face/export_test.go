package face

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// simulatorSurface parses the default persona's card face and verifies it
// against the simulator's test anchors.
func simulatorSurface(t *testing.T) (*cardap.Surface, []trust.Check) {
	t.Helper()
	img, err := persona.Build(persona.Default())
	if err != nil {
		t.Fatal(err)
	}
	get := func(fid uint16) []byte {
		return img.Applets[fmt.Sprintf("%X", myna.Surface.AID())].Files[simulator.FIDString(fid)].Data
	}
	obj := func(fid uint16) []byte {
		o, _, err := tlv.Parse(get(fid))
		if err != nil {
			t.Fatal(err)
		}
		return o.Raw
	}
	store := trust.Embedded().Clone()
	if err := store.AddCVKeysJSON(persona.TestCVKeysJSON(), "simulator"); err != nil {
		t.Fatal(err)
	}
	s, checks := cardap.VerifySurface(cardap.SurfaceRaw{Face: obj(myna.SurfaceFace), CVCert: obj(myna.SurfaceCVCert), MyNumberImage: obj(myna.SurfaceMyNumberImg)}, store)
	return s, checks
}

func imagesOf(s *cardap.Surface) Images {
	return Images{Photo: s.Photo, Name: s.NameImage, Address: s.AddressImage, MyNumber: s.MyNumberImage, SecurityCode: s.SecurityCodeImage}
}

func exportsByPart(ex []Export) map[Part]Export {
	m := map[Part]Export{}
	for _, e := range ex {
		m[e.Part] = e
	}
	return m
}

// TestSimulatorPhotoExportMatchesThePersonaPhoto is the acceptance test:
// the PNG exported from the simulated card decodes to the persona's photo
// pixel for pixel (OpenJPEG's decode of it, stored and run live).
func TestSimulatorPhotoExportMatchesThePersonaPhoto(t *testing.T) {
	s, checks := simulatorSurface(t)
	if v := trust.Decide(checks); v != trust.Genuine {
		t.Fatalf("simulated card face: %s", v)
	}
	ex, err := Exports(imagesOf(s), checks, ExportOptions{Parts: []Part{PartPhoto}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 1 || ex[0].Filename != "photo.png" || !ex[0].Verified {
		t.Fatalf("exports: %+v", ex)
	}
	got, err := png.Decode(bytes.NewReader(ex[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	compareToReference(t, "exported photo vs stored OpenJPEG decode", got, decodePNGFile(t, filepath.Join("testdata", "jp2", simulatorPhoto+".opj.png")), true)

	opj, err := exec.LookPath("opj_decompress")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("opj_decompress not found (Debian libopenjp2-tools; `make deps` installs it)")
		}
		t.Skip("opj_decompress not found")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "df27.jp2"), filepath.Join(dir, "df27.png")
	if err := os.WriteFile(in, s.Photo, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(opj, "-i", in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("opj_decompress: %v\n%s", err, b)
	}
	compareToReference(t, "exported photo vs opj_decompress of DF27", got, decodePNGFile(t, out), true)
}

func TestExportsRespectWhatTheSignaturesCover(t *testing.T) {
	s, checks := simulatorSurface(t)
	im := imagesOf(s)

	// Everything but the security code is covered by a passing signature.
	ex, err := Exports(im, checks, ExportOptions{Parts: []Part{PartPhoto, PartName, PartAddress, PartMyNumber}, PhotoFormat: PhotoJPEG})
	if err != nil {
		t.Fatal(err)
	}
	m := exportsByPart(ex)
	if !bytes.Equal(m[PartName].Data, s.NameImage) || !bytes.Equal(m[PartAddress].Data, s.AddressImage) || !bytes.Equal(m[PartMyNumber].Data, s.MyNumberImage) {
		t.Error("PNG images not exported exactly as stored")
	}
	if _, err := jpeg.Decode(bytes.NewReader(m[PartPhoto].Data)); err != nil || m[PartPhoto].Filename != "photo.jpg" {
		t.Errorf("JPEG photo: %v", err)
	}

	// The security-code image: no signature covers it.
	if _, err := Exports(im, checks, ExportOptions{Parts: []Part{PartSecurityCode}}); !errors.Is(err, ErrUnverified) {
		t.Errorf("security code without --unverified: %v", err)
	}
	ex, err = Exports(im, checks, ExportOptions{Parts: []Part{PartSecurityCode}, Unverified: true})
	if err != nil || len(ex) != 1 || ex[0].Verified || !bytes.Equal(ex[0].Data, s.SecurityCodeImage) {
		t.Errorf("security code with Unverified: %+v, %v", ex, err)
	}

	// All parts by default: refused because of the security code.
	if _, err := Exports(im, checks, ExportOptions{}); !errors.Is(err, ErrUnverified) || !strings.Contains(err.Error(), "security-code") {
		t.Errorf("default parts: %v", err)
	}

	// A failed card-face signature: photo, name and address refused; the
	// My Number image has its own signature.
	failed := append([]trust.Check(nil), checks...)
	for i := range failed {
		if failed[i].Name == trust.CheckSurfaceFace {
			failed[i].Result = trust.Fail
		}
	}
	for _, p := range []Part{PartPhoto, PartName, PartAddress} {
		if _, err := Exports(im, failed, ExportOptions{Parts: []Part{p}}); !errors.Is(err, ErrUnverified) {
			t.Errorf("%s under a failed signature: %v", p, err)
		}
	}
	if _, err := Exports(im, failed, ExportOptions{Parts: []Part{PartMyNumber}}); err != nil {
		t.Errorf("My Number image under its own signature: %v", err)
	}
	// Unknown (no anchor) is not verified either.
	unknown := append([]trust.Check(nil), checks...)
	for i := range unknown {
		unknown[i].Result = trust.Unknown
	}
	if _, err := Exports(im, unknown, ExportOptions{Parts: []Part{PartPhoto}}); !errors.Is(err, ErrUnverified) {
		t.Errorf("photo under an unknown anchor: %v", err)
	}

	// A damaged PNG is refused even with Unverified.
	bad := im
	bad.Name = bad.Name[:len(bad.Name)-5]
	if _, err := Exports(bad, checks, ExportOptions{Parts: []Part{PartName}, Unverified: true}); !errors.Is(err, ErrPNG) {
		t.Errorf("damaged name image: %v", err)
	}
	if _, err := Exports(Images{}, checks, ExportOptions{Parts: []Part{PartPhoto}}); err == nil {
		t.Error("exported a photo that was not read")
	}
}

func TestCoveredBy(t *testing.T) {
	want := map[Part]trust.CheckName{PartPhoto: trust.CheckSurfaceFace, PartName: trust.CheckSurfaceFace, PartAddress: trust.CheckSurfaceFace,
		PartMyNumber: trust.CheckSurfaceMyNumberImage, PartSecurityCode: ""}
	for p, w := range want {
		if p.CoveredBy() != w {
			t.Errorf("%s covered by %q, want %q", p, p.CoveredBy(), w)
		}
	}
}

func TestSheetIsSelfContained(t *testing.T) {
	photo, err := Decode(readTestdata(t, simulatorPhoto))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = WriteSheet(&buf, Sheet{
		Photo: photo, PhotoVerified: true,
		Facts:   []Fact{{"氏名 Name", "黒桐　幹也"}, {"住所 Address", "<script>alert(1)</script>"}},
		Verdict: "判定 Verdict: 真正 GENUINE",
		Notes:   []string{"有効期限は署名の対象外 / the expiry date is not signed"},
		Checked: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"黒桐　幹也", "判定 Verdict: 真正 GENUINE", "2026-01-02 03:04:05 UTC", "顔写真 Photo", "&lt;script&gt;", "マイナンバーカード"} {
		if !strings.Contains(page, want) {
			t.Errorf("sheet lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "署名未検証") {
		t.Error("sheet has unescaped text or marks a verified photo unverified")
	}
	if regexp.MustCompile(`(?i)(src|href)="?(https?:|//)`).MatchString(page) {
		t.Error("sheet refers to something outside itself")
	}
	m := regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no inlined photo")
	}
	// html/template writes "+" as an entity inside attributes; a browser
	// reads the attribute unescaped.
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := back.(*image.Gray); !ok || !bytes.Equal(g.Pix, photo.(*image.Gray).Pix) {
		t.Error("inlined photo differs from the decoded one")
	}

	buf.Reset()
	if err := WriteSheet(&buf, Sheet{Photo: photo, Verdict: "x"}); err != nil || !strings.Contains(buf.String(), "署名未検証") {
		t.Errorf("unverified photo not marked: %v", err)
	}
}

func engine(mode string, extra ...string) *CommandMatcher {
	return &CommandMatcher{Path: "/bin/sh", Args: append([]string{filepath.Join("testdata", "matcher", "engine.sh"), mode, "{live}", "{card}"}, extra...), Timeout: 5 * time.Second}
}

func TestCommandMatcher(t *testing.T) {
	if _, err := exec.LookPath("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	// The engine script is run from the matcher's temporary directory.
	abs, err := filepath.Abs(filepath.Join("testdata", "matcher", "engine.sh"))
	if err != nil {
		t.Fatal(err)
	}
	eng := func(mode string) *CommandMatcher {
		m := engine(mode)
		m.Args[0] = abs
		return m
	}
	card, err := Decode(readTestdata(t, simulatorPhoto))
	if err != nil {
		t.Fatal(err)
	}
	live := image.NewGray(image.Rect(0, 0, 64, 80))
	ctx := context.Background()

	var m Matcher = eng("match")
	r, err := m.Match(ctx, live, card)
	if err != nil || r != (MatchResult{Score: 0.93, Match: true}) {
		t.Errorf("match: %+v, %v", r, err)
	}
	if r, err := eng("nomatch").Match(ctx, live, card); err != nil || r.Match || r.Score != 0.12 {
		t.Errorf("nomatch: %+v, %v", r, err)
	}
	for _, mode := range []string{"garbage", "partial", "twice", "flood"} {
		if _, err := eng(mode).Match(ctx, live, card); !errors.Is(err, ErrMatcherAnswer) {
			t.Errorf("%s: %v", mode, err)
		}
	}
	var stderr bytes.Buffer
	failing := eng("fail")
	failing.Stderr = &stderr
	if _, err := failing.Match(ctx, live, card); !errors.Is(err, ErrMatcherFailed) || strings.Contains(err.Error(), "crashed") || !strings.Contains(stderr.String(), "crashed") {
		t.Errorf("fail: %v (stderr %q)", err, stderr.String())
	}
	slow := eng("slow")
	slow.Timeout = 200 * time.Millisecond
	if _, err := slow.Match(ctx, live, card); !errors.Is(err, ErrMatcherFailed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow: %v", err)
	}
	// Without placeholders the two paths are appended.
	appended := &CommandMatcher{Path: "/bin/sh", Args: []string{abs, "args"}}
	if r, err := appended.Match(ctx, live, card); err != nil || r.Score != 3 {
		t.Errorf("appended paths: %+v, %v", r, err)
	}
	if _, err := (&CommandMatcher{}).Match(ctx, live, card); !errors.Is(err, ErrMatcherFailed) {
		t.Errorf("no command: %v", err)
	}
}

// Exportable leaves out the security-code image unless asked, and the My
// Number image when it was not read; never a part a signature covers.
func TestExportable(t *testing.T) {
	im := Images{Photo: []byte{1}}
	got := fmt.Sprint(Exportable(im, false))
	if got != "[photo name address]" {
		t.Fatalf("Exportable: %s", got)
	}
	im.MyNumber = []byte{1}
	if got := fmt.Sprint(Exportable(im, true)); got != "[photo name address my-number security-code]" {
		t.Fatalf("Exportable with the My Number image, unverified: %s", got)
	}
}
