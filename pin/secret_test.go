package pin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynakit/mynakit/myna"
)

func TestDeriveCodeBEraBoundaries(t *testing.T) {
	cases := map[string]string{
		"1980-02-17": "55021720352285", // the test card (docs/card.md §3.6)
		"1989-01-07": "64010720352285",
		"1989-01-08": "01010820352285",
		"2019-04-30": "31043020352285",
		"2019-05-01": "01050120352285",
		"1926-12-24": "15122420352285",
		"1926-12-25": "01122520352285",
		"1912-07-29": "45072920352285",
		"1912-07-30": "01073020352285",
	}
	for birth, want := range cases {
		d, _ := time.Parse("2006-01-02", birth)
		got, err := DeriveCodeB(d, 2035, "2285")
		if err != nil || string(got) != want {
			t.Errorf("%s: %s, %v; want %s", birth, got, err, want)
		}
		// The same, given as text to the prompt.
		got, err = Normalize(myna.CodeB, []byte(birth+" 2035 2285"))
		if err != nil || string(got) != want {
			t.Errorf("%s as text: %s, %v", birth, got, err)
		}
	}
	if _, err := DeriveCodeB(time.Date(1868, 1, 24, 0, 0, 0, 0, time.UTC), 2035, "2285"); err == nil {
		t.Error("a birth date before Meiji was accepted")
	}
	if _, err := DeriveCodeB(time.Date(1980, 2, 17, 0, 0, 0, 0, time.UTC), 2035, "228"); err == nil {
		t.Error("a 3-digit security code was accepted")
	}
}

func TestNormalize(t *testing.T) {
	good := []struct {
		kind     myna.Secret
		in, want string
	}{
		{myna.ShortPIN, " 1234\n", "1234"},
		{myna.SignPassword, "abc123", "ABC123"},
		{myna.SignPassword, "A1B2C3D4E5F6G7H8", "A1B2C3D4E5F6G7H8"},
		{myna.CodeA, "537686677188", "537686677188"},
		{myna.CodeB, "55021720352285", "55021720352285"},
		{myna.BirthKey, "550217", "550217"},
	}
	for _, g := range good {
		got, err := Normalize(g.kind, []byte(g.in))
		if err != nil || string(got) != g.want {
			t.Errorf("%v %q: %q, %v", g.kind, g.in, got, err)
		}
	}
	bad := []struct {
		kind myna.Secret
		in   string
	}{
		{myna.ShortPIN, "123"}, {myna.ShortPIN, "12345"}, {myna.ShortPIN, "12a4"},
		{myna.SignPassword, "ABC12"}, {myna.SignPassword, "A1B2C3D4E5F6G7H8I"}, {myna.SignPassword, "ABC-123"}, {myna.SignPassword, "ＡＢＣ１２３"},
		{myna.CodeA, "537686677189"}, {myna.CodeA, "53768667718"},
		{myna.CodeB, "55131720352285"}, {myna.CodeB, "55021719992285"}, {myna.CodeB, "5502172035228"},
		{myna.BirthKey, "551317"},
	}
	for _, b := range bad {
		if _, err := Normalize(b.kind, []byte(b.in)); !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("%v %q accepted (%v)", b.kind, b.in, err)
		}
	}
}

// FuzzNormalize: whatever is accepted has the card's form, and a rejection
// never repeats the input.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"1234", "abc123", "537686677188", "55021720352285", "1980-02-17 2035 2285", "550217", ""} {
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, in string, k uint8) {
		kind := myna.Secret(k%5 + 1)
		out, err := Normalize(kind, []byte(in))
		if err != nil {
			// Every rejection is one of the fixed reasons, so it can carry
			// nothing of the input.
			var ie *InvalidSecretError
			if !errors.As(err, &ie) || !fixedReasons(t)[ie.Reason] || err.Error() != ie.Error() {
				t.Fatalf("rejection %q is not a fixed reason", err)
			}
			return
		}
		switch kind {
		case myna.ShortPIN:
			if !myna.Digits(string(out), 4) {
				t.Fatalf("short PIN %q", out)
			}
		case myna.SignPassword:
			if len(out) < 6 || len(out) > 16 || strings.ToUpper(string(out)) != string(out) {
				t.Fatalf("password %q", out)
			}
		case myna.CodeA:
			if !myna.ValidMyNumber(string(out)) {
				t.Fatalf("code A %q", out)
			}
		case myna.CodeB:
			if !myna.Digits(string(out), 14) || checkCodeB(out) != nil {
				t.Fatalf("code B %q", out)
			}
		case myna.BirthKey:
			if !myna.Digits(string(out), 6) {
				t.Fatalf("birth key %q", out)
			}
		}
	})
}

// FuzzDeriveCodeB: for any date from Meiji on, the code is 14 digits whose
// first six are the era date, and Normalize accepts it.
func FuzzDeriveCodeB(f *testing.F) {
	f.Add(int64(319593600), uint16(2035), uint16(2285))
	f.Add(int64(600134400), uint16(2030), uint16(1))
	f.Fuzz(func(t *testing.T, unix int64, year, code uint16) {
		d := time.Unix(unix%(200*365*86400), 0).UTC().AddDate(-80, 0, 0)
		sc := fmt.Sprintf("%04d", code%10000)
		out, err := DeriveCodeB(d, int(2015+year%85), sc)
		if d.Before(time.Date(1868, 1, 25, 0, 0, 0, 0, time.UTC)) {
			if err == nil {
				t.Fatalf("pre-Meiji date %s accepted", d)
			}
			return
		}
		if err != nil {
			if errors.Is(err, ErrInvalidSecret) && strings.Contains(err.Error(), "two digits") {
				return
			}
			t.Fatalf("%s: %v", d, err)
		}
		era, _ := myna.EraYYMMDD(d)
		if len(out) != 14 || string(out[:6]) != era {
			t.Fatalf("%s: %s", d, out)
		}
		if _, err := Normalize(myna.CodeB, out); err != nil {
			t.Fatalf("derived code rejected: %v", err)
		}
	})
}

// fixedReasons are the Reason literals of this package's source: the only
// texts a rejected secret may produce (given as Reason: or to fail).
func fixedReasons(t *testing.T) map[string]bool {
	reasonsOnce.Do(func() {
		reasons = map[string]bool{}
		files, _ := filepath.Glob("*.go")
		re := regexp.MustCompile(`(?:Reason: |fail\()"([^"]*)"`)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllStringSubmatch(string(src), -1) {
				reasons[m[1]] = true
			}
		}
	})
	if len(reasons) < 10 {
		t.Fatalf("found only %d reasons in the source", len(reasons))
	}
	return reasons
}

var (
	reasonsOnce sync.Once
	reasons     map[string]bool
)

// The caller wipes its input after Normalize; the result must be a separate
// copy (and the input must not be rewritten, e.g. by upper-casing in place).
func TestNormalizeReturnsOwnCopy(t *testing.T) {
	in := []byte(" abc123 ")
	out, err := Normalize(myna.SignPassword, in)
	if err != nil {
		t.Fatal(err)
	}
	if string(in) != " abc123 " {
		t.Fatalf("input rewritten: %q", in)
	}
	Wipe(in)
	if string(out) != "ABC123" {
		t.Fatalf("result changed when the input was wiped: %q", out)
	}
}
