package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/tlv"
)

// defaultImage builds the default persona's image, writes it for the
// simulator process and returns it.
func defaultImage(t testing.TB) (*simulator.Image, string) {
	t.Helper()
	img := simtest.Image(t)
	return img, simtest.WriteImage(t, img)
}

// imageObject returns the TLV object at the start of an EF of the image.
func imageObject(t testing.TB, img *simulator.Image, a myna.Applet, fid uint16) []byte {
	t.Helper()
	ap := img.Applets[hex.EncodeToString(a.AID())]
	if ap == nil {
		ap = img.Applets[hexUpper(a.AID())]
	}
	if ap == nil {
		t.Fatalf("image has no %s applet", a)
	}
	f := ap.Files[simulator.FIDString(fid)]
	if f == nil {
		t.Fatalf("image has no EF %04X in %s", fid, a)
	}
	obj, _, err := tlv.Parse(f.Data)
	if err != nil {
		t.Fatal(err)
	}
	return obj.Raw
}

func hexUpper(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func TestPCSCSelectReadVerify(t *testing.T) {
	img, path := defaultImage(t)
	s := startDefaultMode(t, "--image", path)
	_, tr := s.connect(t)
	ctx := context.Background()
	want := imageObject(t, img, myna.JPKI, myna.JPKIAuthCert)

	for _, mode := range []struct {
		name string
		m    apdu.ExtendedMode
	}{{"short", apdu.ExtendedNever}, {"extended", apdu.ExtendedAlways}} {
		card := apdu.NewCard(tr, apdu.WithExtendedLength(mode.m))
		if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
			t.Fatalf("%s: %v", mode.name, err)
		}
		got, err := card.ReadObject(ctx, myna.JPKIAuthCert)
		if err != nil {
			t.Fatalf("%s read: %v", mode.name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s read: %d bytes differ from the image's %d", mode.name, len(got), len(want))
		}
		st := card.Stats()
		t.Logf("%s read of %d bytes: %d APDUs, %d bytes received", mode.name, len(got), st.Commands, st.BytesReceived)
		if mode.m == apdu.ExtendedAlways && st.Commands != 4 {
			t.Errorf("extended read took %d APDUs, want 4 (select AID, select EF, header, rest)", st.Commands)
		}
	}

	card := apdu.NewCard(tr)
	if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
		t.Fatal(err)
	}
	if err := card.SelectEF(ctx, myna.JPKIAuthPIN); err != nil {
		t.Fatal(err)
	}
	var wrong *apdu.WrongPINError
	if err := card.Verify(ctx, apdu.KeyCurrent, []byte("9999")); !errors.As(err, &wrong) || wrong.Remaining != 2 {
		t.Fatalf("wrong PIN: %v, want 2 tries left", err)
	}
	if left, _, err := card.VerifyStatus(ctx, apdu.KeyCurrent); err != nil || left != 2 {
		t.Fatalf("tries query: %d, %v", left, err)
	}
	if err := card.Verify(ctx, apdu.KeyCurrent, []byte("1234")); err != nil {
		t.Fatalf("right PIN: %v", err)
	}
	if left, _, err := card.VerifyStatus(ctx, apdu.KeyCurrent); err != nil || left != 3 {
		t.Fatalf("after a right PIN: %d tries, %v; want the counter back at 3", left, err)
	}
}

func TestPCSCRemovalMidRead(t *testing.T) {
	_, path := defaultImage(t)
	// select AID, select EF, header read, then the card goes during the rest.
	s := startDefaultMode(t, "--image", path, "--remove-after", "4")
	pc, tr := s.connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := pc.WaitForCard(ctx, s.reader); err != nil {
		t.Fatalf("wait for a card that is present: %v", err)
	}
	card := apdu.NewCard(tr, apdu.WithExtendedLength(apdu.ExtendedNever))
	if err := card.SelectAID(ctx, myna.JPKI.AID()); err != nil {
		t.Fatal(err)
	}
	_, err := card.ReadObject(ctx, myna.JPKIAuthCert)
	if !errors.Is(err, apdu.ErrCardRemoved) {
		t.Fatalf("read across a removal: %v, want ErrCardRemoved", err)
	}
	if err := pc.WaitForRemoval(ctx, s.reader); err != nil {
		t.Fatalf("wait for removal: %v", err)
	}
	readers, err := pc.Readers()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readers {
		if r.Name == s.reader && r.CardPresent {
			t.Fatal("the reader still shows the pulled card")
		}
	}
}

func TestReadersJSON(t *testing.T) {
	_, path := defaultImage(t)
	startDefaultMode(t, "--image", path)
	out, err := run(t, "readers", "--json")
	if err != nil {
		t.Fatalf("readers: %v\n%s", err, out)
	}
	var got struct {
		Readers []struct {
			Name        string `json:"name"`
			CardPresent bool   `json:"card_present"`
			ATR         string `json:"atr"`
		} `json:"readers"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := false
	for _, r := range got.Readers {
		if r.Name == "mynakit sim 00 00" {
			found = true
			if !r.CardPresent || r.ATR != "3BE000FF8131FE4514" {
				t.Errorf("reader %+v", r)
			}
		}
	}
	if !found {
		t.Fatalf("simulated reader missing: %s", out)
	}
}
