package bridge_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
)

// photoWithSecondCodestream is the simulator's photo followed by a second
// jp2c box: its codestream again, claiming side×side pixels.
func photoWithSecondCodestream(t *testing.T, side int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "face", "testdata", "jp2", "simulator-default.jp2"))
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

// imageWithPhoto is the default persona with the photo b, which the
// simulator's J-LIS key signs; broken flips a bit of it after signing.
func imageWithPhoto(t *testing.T, b []byte, broken bool) *simulator.Image {
	t.Helper()
	img := simtest.Image(t)
	if b != nil {
		path := filepath.Join(t.TempDir(), "photo.jp2")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		img = simtest.Image(t, func(p *persona.Persona) { p.Photo = path })
	}
	if broken {
		ef := append([]byte(nil), simtest.EF(t, img, myna.Surface, myna.SurfaceFace)...)
		off, n := simtest.Field(t, ef, 0xDF27)
		ef[off+n-3] ^= 0x01
		simtest.SetEF(t, img, myna.Surface, myna.SurfaceFace, ef)
	}
	return img
}

// The photo route serves only a photo whose card-face signature verified,
// and says which of the two refusals it is: a photo under a broken
// signature is never decoded (not-genuine); a signed photo with a second
// codestream is refused by the decoder's checks (bad-photo). Neither
// takes the bridge down.
func TestPhotoRouteDecodesOnlyASignedPhoto(t *testing.T) {
	cases := []struct {
		name   string
		photo  []byte
		broken bool
		status int
		want   string
	}{
		{"genuine", nil, false, 200, ""},
		{"changed photo", nil, true, 422, "not-genuine"},
		{"second codestream, broken signature", photoWithSecondCodestream(t, 1200), true, 422, "not-genuine"},
		{"second codestream, signed", photoWithSecondCodestream(t, 1200), false, 422, "second codestream"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := start(t, withImage(imageWithPhoto(t, c.photo, c.broken)), withTerminal())
			h := app(e.pair(appOrigin))
			r := e.follow(e.do("GET", "/v1/readers/sim/photo", nil, h), h)
			if r.status != c.status || !strings.Contains(string(r.body), c.want) {
				t.Fatalf("photo: %d %s", r.status, r.body)
			}
			if c.status == 200 && r.header.Get("Content-Type") != "image/png" {
				t.Fatalf("photo served as %q", r.header.Get("Content-Type"))
			}
			// The read route with the photo completes whatever the photo.
			rr := e.follow(e.do("POST", "/v1/readers/sim/read", []byte(`{"parts":["surface"],"photo":true}`), h), h)
			if rr.status != 200 || !strings.Contains(string(rr.body), "face-signature") {
				t.Fatalf("read: %d %s", rr.status, rr.body)
			}
		})
	}
}
