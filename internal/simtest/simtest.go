// Package simtest holds the test fixtures every package of mynakit shares:
// simulated cards built from personas, a scripted prompter, and the tools
// the attack tests use to make forged card images — files changed and
// re-signed with the simulator's (public) test keys, CV certificates issued
// by the wrong key, clones that replay a recorded presence proof.
//
// It is a test-only package: only _test.go files import it (it imports the
// root package, which no other package under internal/ does), and no
// program or library package may.
package simtest

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/cardimage"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
	"github.com/mynakit/mynakit/tlv"
	"github.com/mynakit/mynakit/trust"
)

// PIN is the default persona's 4-digit PIN; SignPassword its signing
// password; CodeB its 照合番号B (birth date, card expiry year, security code).
const (
	PIN          = "1234"
	SignPassword = "ABC123"
	CodeB        = "55021720352285"
)

var (
	defaultOnce sync.Once
	defaultJSON []byte
	defaultErr  error
)

// Image builds a card image from the default persona changed by mods.
// With no mods the build is done once and copied.
func Image(t testing.TB, mods ...func(*persona.Persona)) *simulator.Image {
	t.Helper()
	if len(mods) == 0 {
		defaultOnce.Do(func() {
			img, err := persona.Build(persona.Default())
			if err != nil {
				defaultErr = err
				return
			}
			defaultJSON, defaultErr = img.Marshal()
		})
		if defaultErr != nil {
			t.Fatal(defaultErr)
		}
		img, err := simulator.ParseImage(defaultJSON)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	p := persona.Default()
	for _, m := range mods {
		m(p)
	}
	img, err := persona.Build(p)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Sim starts a simulated card from img.
func Sim(t testing.TB, img *simulator.Image, opts ...simulator.Option) *simulator.Card {
	t.Helper()
	sc, err := simulator.New(img, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// Open opens the simulated card through the library, answering prompts
// from answers (in order).
func Open(t testing.TB, sc *simulator.Card, opts mynakit.OpenOptions) *mynakit.Card {
	t.Helper()
	c, err := mynakit.OpenTransport(sc, "simtest", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Prompter answers prompts from a script, in order, and records what it
// was asked. It fails a prompt beyond the script with pin.ErrNoSecret.
type Prompter struct {
	mu      sync.Mutex
	answers []string
	Asked   []pin.Request
	// During, when set, runs at each prompt before it answers (to act on
	// the card while the prompt is open).
	During func()
}

// NewPrompter answers with answers in order.
func NewPrompter(answers ...string) *Prompter { return &Prompter{answers: answers} }

// Prompt implements pin.Prompter.
func (p *Prompter) Prompt(ctx context.Context, r pin.Request) ([]byte, error) {
	p.mu.Lock()
	p.Asked = append(p.Asked, r)
	n := len(p.Asked)
	during := p.During
	p.mu.Unlock()
	if during != nil {
		during()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n > len(p.answers) {
		return nil, fmt.Errorf("%w: the test prompter has no answer %d (%s)", pin.ErrNoSecret, n, r.Kind)
	}
	return []byte(p.answers[n-1]), nil
}

// Count is how many prompts were answered or refused.
func (p *Prompter) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.Asked)
}

// Read opens img in the simulator and reads it with the default PIN.
func Read(t testing.TB, img *simulator.Image, ro mynakit.ReadOptions, simOpts ...simulator.Option) (*mynakit.Report, error) {
	t.Helper()
	c := Open(t, Sim(t, img, simOpts...), mynakit.OpenOptions{Prompter: NewPrompter(PIN, PIN)})
	return c.Read(context.Background(), ro)
}

// WriteImage writes img to a temporary file and returns its path.
func WriteImage(t testing.TB, img *simulator.Image) string {
	t.Helper()
	b, err := img.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "card.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// AID is an applet's key in an image.
func AID(a myna.Applet) string { return strings.ToUpper(hex.EncodeToString(a.AID())) }

// Applet returns the image's applet a (nil when absent).
func Applet(img *simulator.Image, a myna.Applet) *simulator.Applet {
	if ap := img.Applets[AID(a)]; ap != nil {
		return ap
	}
	return img.Applets[strings.ToLower(AID(a))]
}

// EF returns the stored bytes of EF fid of applet a (filler included);
// changing them changes the image.
func EF(t testing.TB, img *simulator.Image, a myna.Applet, fid uint16) []byte {
	t.Helper()
	ap := Applet(img, a)
	if ap == nil {
		t.Fatalf("no applet %s", a)
	}
	f := ap.Files[cardimage.FIDString(fid)]
	if f == nil {
		t.Fatalf("no EF %04X in %s", fid, a)
	}
	return f.Data
}

// SetEF replaces EF fid of applet a.
func SetEF(t testing.TB, img *simulator.Image, a myna.Applet, fid uint16, data []byte) {
	t.Helper()
	Applet(img, a).Files[cardimage.FIDString(fid)].Data = data
}

// Object is the TLV object at the start of an EF.
func Object(t testing.TB, data []byte) tlv.TLV {
	t.Helper()
	o, _, err := tlv.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Field finds the value of a child tag inside the EF's outer object and
// returns its offset in data and its length.
func Field(t testing.TB, data []byte, tag uint32) (off, n int) {
	t.Helper()
	outer := Object(t, data)
	kids, err := outer.Children()
	if err != nil {
		t.Fatal(err)
	}
	off = len(outer.Raw) - len(outer.Value)
	for _, k := range kids {
		if k.Tag == tag {
			return off + len(k.Raw) - len(k.Value), len(k.Value)
		}
		off += len(k.Raw)
	}
	t.Fatalf("no tag %X", tag)
	return 0, 0
}

// Key returns one of the simulator's test keys by file name ("text-ap",
// "surface-ap", "cv-text-ca", "cv-surface-ca", "cv-root", "card", ...).
func Key(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	b, err := fs.ReadFile(simulator.TestData(), "keys/"+name+".pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

// Sign is RSASSA-PKCS1-v1_5 / SHA-256.
func Sign(t testing.TB, k *rsa.PrivateKey, msg []byte) []byte {
	t.Helper()
	h := sha256.Sum256(msg)
	s, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TLV encodes one object the way the card-surface applets do (short length
// below 128, else 82 hh ll).
func TLV(tag uint32, value ...[]byte) []byte {
	var v []byte
	for _, p := range value {
		v = append(v, p...)
	}
	out := tlv.AppendTag(nil, tag)
	if len(v) < 0x80 {
		out = append(out, byte(len(v)))
	} else {
		out = append(out, 0x82, byte(len(v)>>8), byte(len(v)))
	}
	return append(out, v...)
}

// Filler pads obj with FF to the next multiple of 256 bytes.
func Filler(obj []byte) []byte {
	out := append([]byte(nil), obj...)
	for len(out)%256 != 0 || len(out) == len(obj) {
		out = append(out, 0xFF)
	}
	return out
}

// WithOffsets wraps fields in outer with a DF21 offset table first.
func WithOffsets(outer uint32, fields ...[]byte) []byte {
	n := 3 + 2*len(fields)
	for _, f := range fields {
		n += len(f)
	}
	header := len(TLV(outer, make([]byte, n))) - n
	table := make([]byte, 0, 2*len(fields))
	off := header + 3 + 2*len(fields)
	for _, f := range fields {
		table = binary.BigEndian.AppendUint16(table, uint16(off))
		off += len(f)
	}
	return TLV(outer, append([][]byte{TLV(0xDF21, table)}, fields...)...)
}

// ResignText recomputes the text applet's integrity record (EF 0003) over
// the image's EF 0001 and EF 0002 as they are now and signs it with the
// simulator's text-applet key: whatever was changed in them is then
// covered by a valid signature, as a forger with the key would make it.
// digestLen lets a test write a digest of the wrong size (0: 32).
func ResignText(t testing.TB, img *simulator.Image, digestLen int) {
	t.Helper()
	my := EF(t, img, myna.Text, myna.TextMyNumber)
	attr := Object(t, EF(t, img, myna.Text, myna.TextAttributes))
	kids, err := attr.Children()
	if err != nil {
		t.Fatal(err)
	}
	var fields []byte
	for _, k := range kids[1:] {
		fields = append(fields, k.Raw...)
	}
	h1, h2 := sha256.Sum256(my), sha256.Sum256(fields)
	if digestLen == 0 {
		digestLen = 32
	}
	d31, d32 := TLV(0xDF31, h1[:digestLen]), TLV(0xDF32, h2[:])
	signed := append(append([]byte(nil), d31...), d32...)
	integ := TLV(0xFF30, d31, d32, TLV(0xDF33, Sign(t, Key(t, "text-ap"), signed)))
	SetEF(t, img, myna.Text, myna.TextIntegrity, Filler(integ))
}

// SetTextAttributes rewrites EF 0002 with new field values (name,
// address, birth date YYYYMMDD, sex digit; "" keeps a field) and re-signs
// the integrity record.
func SetTextAttributes(t testing.TB, img *simulator.Image, name, address, birth, sex string) {
	t.Helper()
	attr := Object(t, EF(t, img, myna.Text, myna.TextAttributes))
	kids, _ := attr.Children()
	vals := []string{string(kids[1].Value), string(kids[2].Value), string(kids[3].Value), string(kids[4].Value)}
	for i, v := range []string{name, address, birth, sex} {
		if v != "" {
			vals[i] = v
		}
	}
	obj := WithOffsets(0xFF20, TLV(0xDF22, []byte(vals[0])), TLV(0xDF23, []byte(vals[1])), TLV(0xDF24, []byte(vals[2])), TLV(0xDF25, []byte(vals[3])))
	SetEF(t, img, myna.Text, myna.TextAttributes, Filler(obj))
	ResignText(t, img, 0)
}

// ReissueCV replaces applet a's CV certificate (EF 0004) with one for the
// same applet key, issued under issuerID by the simulator's test key
// issuerKey ("cv-text-ca", "cv-surface-ca", "cv-root").
func ReissueCV(t testing.TB, img *simulator.Image, a myna.Applet, issuerKey string, issuerID persona.KeyID) {
	t.Helper()
	cv := Object(t, EF(t, img, a, 0x0004))
	kids, _ := cv.Children()
	body := kids[0].Value
	var subject persona.KeyID
	copy(subject[:], body[16:32])
	apKey := "text-ap"
	if a == myna.Surface {
		apKey = "surface-ap"
	}
	SetEF(t, img, a, 0x0004, Filler(persona.CVCert(Key(t, issuerKey), issuerID, subject, &Key(t, apKey).PublicKey)))
}

// Clone turns img into a clone of the card: no private keys, and for each
// card-surface applet one presence proof recorded from the genuine card —
// a challenge and the card's signature over SHA-256 of it alone, as a
// client that trusted the card's challenge would have had it signed — which
// the clone replays to every GET CHALLENGE and every signing command.
func Clone(t testing.TB, img *simulator.Image) *simulator.Image {
	t.Helper()
	genuine := Sim(t, img)
	card := apdu.NewCard(genuine)
	ctx := context.Background()
	out, err := simulator.ParseImage(mustMarshal(t, img))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []myna.Applet{myna.Surface, myna.Text} {
		if err := card.SelectAID(ctx, a.AID()); err != nil {
			t.Fatal(err)
		}
		r, err := card.GetChallenge(ctx, 16)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(r)
		di := append([]byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, sum[:]...)
		s, err := card.ComputeSignature(ctx, 0x00, 0x00, di)
		if err != nil {
			t.Fatal(err)
		}
		ap := Applet(out, a)
		ap.Replay = &cardimage.Replay{Challenge: r, Signature: s}
	}
	for _, ap := range out.Applets {
		ap.PrivateKeys = nil
	}
	return out
}

func mustMarshal(t testing.TB, img *simulator.Image) []byte {
	t.Helper()
	b, err := img.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Store is the trust store a simulated card is judged against: the
// embedded anchors and the simulator's test hierarchy.
func Store(t testing.TB) *trust.Store {
	t.Helper()
	s, err := mynakit.NewTrustStore(nil, Sim(t, Image(t)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TrustDir is the directory holding the simulator's test anchors, as a
// trust folder (OpenOptions.TrustDirs).
func TrustDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"sim-roots.pem", "sim-cv-ca-keys.json"} {
		b, err := fs.ReadFile(simulator.TestData(), "trust/"+n)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Verdict is shorthand for a report's verdict and the names of the checks
// that did not pass.
func Verdict(r *mynakit.Report) (trust.Verdict, []string) {
	var bad []string
	for _, c := range r.Checks {
		if c.Result != trust.Pass {
			bad = append(bad, string(c.Name)+"="+string(c.Result)+": "+c.Detail)
		}
	}
	return r.Verdict, bad
}
