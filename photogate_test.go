package mynakit_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/face"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/trust"
)

// secondCodestreamPhoto is the simulator's photo with a second jp2c box
// holding its codestream again, claiming side×side pixels (issue 14,
// finding 2). A decoder that took the second codestream would decode a
// side×side picture; this test keeps side small enough to survive that.
func secondCodestreamPhoto(t *testing.T, side int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("face", "testdata", "jp2", "simulator-default.jp2"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte{0xFF, 0x4F, 0xFF, 0x51})
	if i < 0 {
		t.Fatal("no codestream in the simulator photo")
	}
	cs := append([]byte(nil), b[i:]...)
	for k, v := range []uint32{uint32(side), uint32(side), 0, 0, uint32(side), uint32(side)} {
		binary.BigEndian.PutUint32(cs[8+4*k:], v)
	}
	out := binary.BigEndian.AppendUint32(append([]byte(nil), b...), uint32(8+len(cs)))
	return append(append(out, "jp2c"...), cs...)
}

// photoImage is a card image whose persona photo is the file b, signed by
// the simulator's J-LIS key like any photo.
func photoImage(t *testing.T, b []byte) *simulator.Image {
	t.Helper()
	path := filepath.Join(t.TempDir(), "photo.jp2")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return simtest.Image(t, func(p *persona.Persona) { p.Photo = path })
}

// breakPhoto flips one bit of the photo's last byte before EOC in the
// card-face EF (so the card-face signature DF28 no longer verifies) and
// returns the photo as changed.
func breakPhoto(t *testing.T, img *simulator.Image) []byte {
	t.Helper()
	ef := append([]byte(nil), simtest.EF(t, img, myna.Surface, myna.SurfaceFace)...)
	off, n := simtest.Field(t, ef, 0xDF27)
	ef[off+n-3] ^= 0x01
	simtest.SetEF(t, img, myna.Surface, myna.SurfaceFace, ef)
	return ef[off : off+n]
}

func readPhoto(t *testing.T, img *simulator.Image) *mynakit.Report {
	t.Helper()
	r, err := simtest.Read(t, img, mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartSurface}, Photo: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Surface == nil {
		t.Fatal("the card face was not read")
	}
	return r
}

func surfaceFace(r *mynakit.Report) trust.Check {
	c, _ := r.Check(trust.CheckSurfaceFace)
	return c
}

// Read with Photo decodes the photo only when the card-face signature
// verified. The proof that nothing is decoded before: a photo that would
// decode (one bit changed in its packet data) is not decoded, and a
// hostile photo's error is the signature's, not the decoder's.
func TestReadPhotoDecodesOnlyUnderAVerifiedSignature(t *testing.T) {
	r := readPhoto(t, simtest.Image(t))
	if r.Surface.PhotoImage == nil || surfaceFace(r).Result != trust.Pass {
		t.Fatalf("genuine card: no photo (%s)", r.Surface.PhotoError)
	}

	img := simtest.Image(t)
	changed := breakPhoto(t, img)
	if _, err := face.Decode(changed); err != nil {
		t.Fatalf("the changed photo no longer decodes (%v), so it proves nothing", err)
	}
	r = readPhoto(t, img)
	if surfaceFace(r).Result == trust.Pass {
		t.Fatal("the card-face signature passed over a changed photo")
	}
	if r.Surface.PhotoImage != nil || !strings.Contains(r.Surface.PhotoError, "not decoded: signature not verified") {
		t.Errorf("changed photo under a failed signature: image %v, error %q", r.Surface.PhotoImage != nil, r.Surface.PhotoError)
	}

	// A hostile photo under a broken signature: the decoder never sees it.
	img = photoImage(t, secondCodestreamPhoto(t, 1200))
	breakPhoto(t, img)
	r = readPhoto(t, img)
	if r.Surface.PhotoImage != nil || !strings.Contains(r.Surface.PhotoError, "signature not verified") || !strings.Contains(r.Surface.PhotoError, string(trust.CheckSurfaceFace)) {
		t.Errorf("hostile photo under a failed signature: %q", r.Surface.PhotoError)
	}
	if r.Verdict == trust.Genuine {
		t.Error("a card with a broken card-face signature is genuine")
	}
}

// A hostile photo that J-LIS signed (a simulator-signed one here) is
// decoded only after the signature check, and refused by the decoder's
// header check: one codestream per file.
func TestReadPhotoRefusesASecondCodestream(t *testing.T) {
	r := readPhoto(t, photoImage(t, secondCodestreamPhoto(t, 1200)))
	if surfaceFace(r).Result != trust.Pass {
		t.Fatalf("the simulator-signed photo: %+v", surfaceFace(r))
	}
	if r.Surface.PhotoImage != nil || !strings.Contains(r.Surface.PhotoError, "second codestream") {
		t.Errorf("photo with a second codestream: image %v, error %q", r.Surface.PhotoImage != nil, r.Surface.PhotoError)
	}
}
