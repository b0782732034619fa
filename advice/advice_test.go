package advice_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/advice"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/cardimage"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/oqs"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/webeid"
)

var (
	japanese = regexp.MustCompile(`[\p{Han}\p{Hiragana}\p{Katakana}]`)
	english  = regexp.MustCompile(`\b[a-z]{3,}\b.*\b[a-z]{3,}\b`)
)

// secrets are every secret value the provoked errors were made with.
var secrets = []string{"1234", "9876", "ABC123", "12a4"}

// withKey sets the tries left on one key of the image.
func withKey(t *testing.T, img *simulator.Image, a myna.Applet, fid uint16, remaining int) {
	t.Helper()
	ap := simtest.Applet(img, a)
	k := ap.Keys[fmt.Sprintf("%04X", fid)]
	if k == nil {
		t.Fatalf("no key %04X", fid)
	}
	k.Remaining = remaining
}

func verifyWith(t *testing.T, img *simulator.Image, answer string, opts ...simulator.Option) error {
	t.Helper()
	card := simtest.Open(t, simtest.Sim(t, img, opts...), mynakit.OpenOptions{Prompter: simtest.NewPrompter(answer)})
	return card.VerifyPIN(context.Background(), myna.KeyJPKIAuthPIN)
}

// TestProvokedErrors provokes each error a user can meet — for real where
// the simulator or the system can make it — and checks the advice: present,
// in Japanese and in English, and free of every secret used.
func TestProvokedErrors(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "card.json")
	if err := os.WriteFile(broken, []byte("{\n  \"format\": \n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	cases := map[string]func(t *testing.T) error{
		"wrong PIN": func(t *testing.T) error {
			return verifyWith(t, simtest.Image(t), "9876")
		},
		"wrong PIN blocks the key": func(t *testing.T) error {
			img := simtest.Image(t)
			withKey(t, img, myna.JPKI, myna.JPKIAuthPIN, 1)
			card := simtest.Open(t, simtest.Sim(t, img), mynakit.OpenOptions{Prompter: simtest.NewPrompter("9876"), AllowLastTry: true})
			return card.VerifyPIN(context.Background(), myna.KeyJPKIAuthPIN)
		},
		"last try guarded": func(t *testing.T) error {
			img := simtest.Image(t)
			withKey(t, img, myna.JPKI, myna.JPKIAuthPIN, 1)
			return verifyWith(t, img, "9876")
		},
		"blocked key": func(t *testing.T) error {
			img := simtest.Image(t)
			withKey(t, img, myna.JPKI, myna.JPKIAuthPIN, 0)
			return verifyWith(t, img, "1234")
		},
		"bad PIN format": func(t *testing.T) error {
			return verifyWith(t, simtest.Image(t), "12a4")
		},
		"no way to ask": func(t *testing.T) error {
			card := simtest.Open(t, simtest.Sim(t, simtest.Image(t)), mynakit.OpenOptions{})
			return card.VerifyPIN(context.Background(), myna.KeyJPKIAuthPIN)
		},
		"card pulled mid-read": func(t *testing.T) error {
			card := simtest.Open(t, simtest.Sim(t, simtest.Image(t), simulator.WithRemovalAfter(3)), mynakit.OpenOptions{Prompter: simtest.NewPrompter("1234")})
			_, err := card.Read(context.Background(), mynakit.ReadOptions{})
			return err
		},
		"no smart-card service": func(*testing.T) error {
			return fmt.Errorf("establish PC/SC context: %w", apdu.ErrNoService)
		},
		"reader unplugged mid-read": func(*testing.T) error {
			return fmt.Errorf("read EF 0002: %w", apdu.ErrReaderGone)
		},
		"no reader": func(*testing.T) error { return mynakit.ErrNoReader },
		"no card":   func(*testing.T) error { return mynakit.ErrNoCard },
		"unknown card": func(*testing.T) error {
			return &mynakit.UnknownCardError{ATR: []byte{0x3B, 0x8F, 0x80, 0x01}}
		},
		"broken card image": func(*testing.T) error {
			_, err := cardimage.LoadImage(broken)
			return err
		},
		"port in use": func(*testing.T) error {
			_, err := net.Listen("tcp", l.Addr().String())
			return err
		},
		"clinic terminal silent": func(*testing.T) error {
			return &oqs.TimeoutError{Job: oqs.Job{ID: "job-1"}}
		},
		"short login challenge": func(*testing.T) error {
			return webeid.CheckNonce("c2hvcnQ=")
		},
	}
	for name, provoke := range cases {
		t.Run(name, func(t *testing.T) {
			err := provoke(t)
			if err == nil {
				t.Fatal("the error was not provoked")
			}
			hint := advice.For(err)
			if hint == "" {
				t.Fatalf("no advice for %v", err)
			}
			if !japanese.MatchString(hint) || !english.MatchString(hint) {
				t.Errorf("advice is not in both languages: %s", hint)
			}
			// The address in a listen error is the OS's text, not a secret.
			text := strings.ReplaceAll(err.Error(), l.Addr().String(), "ADDR")
			for _, s := range secrets {
				if strings.Contains(hint, s) || strings.Contains(text, s) {
					t.Errorf("a secret (%q) is in the error or its advice: %v / %s", s, err, hint)
				}
			}
		})
	}
	if advice.For(errors.New("something else")) != "" || advice.For(nil) != "" {
		t.Error("advice for an error it knows nothing about")
	}
}

func TestChoicesListsTheValues(t *testing.T) {
	s := advice.Choices("証明書", "the certificate", []string{"auth", "sign"})
	if !strings.Contains(s, "auth, sign") || !japanese.MatchString(s) {
		t.Fatal(s)
	}
}
