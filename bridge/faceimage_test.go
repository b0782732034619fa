package bridge_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
)

// imageWithBrokenFace is the default persona with one bit of the card
// face's name image (DF25) flipped after the simulator's J-LIS key signed
// it, so the card-face signature no longer verifies.
func imageWithBrokenFace(t *testing.T) *simulator.Image {
	t.Helper()
	img := simtest.Image(t)
	ef := append([]byte(nil), simtest.EF(t, img, myna.Surface, myna.SurfaceFace)...)
	off, n := simtest.Field(t, ef, 0xDF25)
	ef[off+n-3] ^= 0x01
	simtest.SetEF(t, img, myna.Surface, myna.SurfaceFace, ef)
	return img
}

// The card face's name and address images are served, byte for byte as
// the card stores them, as PNG with nosniff, only when the card-face
// signature verified; a changed image is the not-genuine error for both
// (the one signature covers them together).
func TestFaceImageRouteServesOnlySignedImages(t *testing.T) {
	cases := []struct {
		name   string
		img    func(t *testing.T) *simulator.Image
		status int
		want   string
	}{
		{"genuine", func(t *testing.T) *simulator.Image { return simtest.Image(t) }, 200, ""},
		{"changed name image", imageWithBrokenFace, 422, "not-genuine"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := c.img(t)
			ef := simtest.EF(t, img, myna.Surface, myna.SurfaceFace)
			e := start(t, withImage(img))
			h := app(e.pair(appOrigin))
			// A read the holder agrees to on the consent page.
			r := e.do("POST", "/v1/readers/sim/read", []byte(`{"photo":true}`), h)
			if r.status != http.StatusAccepted {
				t.Fatalf("read: %d %s", r.status, r.body)
			}
			id := decodeJSON(t, r.body)["id"].(string)
			if a := e.answer(id, url.Values{"pin": {simtest.PIN}}); a.status != 200 {
				t.Fatalf("answer: %d %s", a.status, a.body)
			}
			e.op(id, h, finished)
			for _, part := range []struct {
				name string
				tag  uint32
			}{{"name", 0xDF25}, {"address", 0xDF26}} {
				p := e.do("GET", "/v1/operations/"+id+"/face/"+part.name, nil, h)
				if p.status != c.status || !strings.Contains(string(p.body), c.want) {
					t.Fatalf("%s: %d %s", part.name, p.status, p.body)
				}
				if c.status != 200 {
					if bytes.HasPrefix(p.body, []byte("\x89PNG")) {
						t.Fatalf("%s: an image was served under a broken signature", part.name)
					}
					continue
				}
				if p.header.Get("Content-Type") != "image/png" || p.header.Get("X-Content-Type-Options") != "nosniff" {
					t.Fatalf("%s served with %v", part.name, p.header)
				}
				off, n := simtest.Field(t, ef, part.tag)
				if !bytes.Equal(p.body, ef[off:off+n]) || !bytes.HasPrefix(p.body, []byte("\x89PNG")) {
					t.Fatalf("%s: not the card's PNG as stored (%d bytes)", part.name, len(p.body))
				}
			}
			if p := e.do("GET", "/v1/operations/"+id+"/face/photo", nil, h); p.status != 404 {
				t.Fatalf("face/photo: %d %s", p.status, p.body)
			}
			// A disallowed origin cannot fetch them.
			if p := e.do("GET", "/v1/operations/"+id+"/face/name", nil, map[string]string{"Origin": otherOrigin}); p.status == 200 {
				t.Fatalf("a disallowed origin got the name image: %d", p.status)
			}
		})
	}
}
