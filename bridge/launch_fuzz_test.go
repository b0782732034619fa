package bridge

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The one-time URLs' tickets, the local applications' tokens and the
// consent pages' time stamps come from whoever connects: none is taken
// unless the launch secret made it.
func FuzzLaunchTokens(f *testing.F) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	good, _ := appToken(secret, "billing")
	f.Add(good)
	f.Add(ticket(secret, now.Add(time.Minute)))
	f.Add("app.billing.")
	f.Add("1800000060.x.y")
	f.Fuzz(func(t *testing.T, s string) {
		if name, ok := checkAppToken(secret, s); ok {
			if want, _ := appToken(secret, name); want != s {
				t.Fatalf("%q accepted as %q", s, name)
			}
		}
		if nonce, exp, ok := checkTicket(secret, s, now); ok {
			if !exp.After(now) || exp.Sub(now) > maxTicketTTL || nonce == "" {
				t.Fatalf("%q accepted: %v", s, exp)
			}
			if !strings.HasSuffix(s, "."+string(encodeMAC(secret, "open:"+s[:strings.LastIndexByte(s, '.')]))) {
				t.Fatalf("%q accepted without its MAC", s)
			}
		}
		b := &Bridge{secret: secret, opts: Options{ArmDelay: time.Nanosecond}}
		if b.armed("id", "csrf", s) && !strings.HasSuffix(s, string(encodeMAC(secret, "shown:id:csrf:"+strings.SplitN(s, ".", 2)[0]))) {
			t.Fatalf("%q armed without its MAC", s)
		}
	})
}

// FuzzDocumentName: a document's name reaches the consent page with no
// control or format characters and bounded.
func FuzzDocumentName(f *testing.F) {
	f.Add("契約書.pdf")
	f.Add("%E5%A5%91%E7%B4%84.pdf")
	f.Add("a\x1b[31mred\u202eevil")
	f.Fuzz(func(t *testing.T, s string) {
		r, _ := http.NewRequest("POST", "http://127.0.0.1/", nil)
		r.Header.Set("X-Document-Name", s)
		got := documentName(r)
		if n := len([]rune(got)); n > 121 {
			t.Fatalf("%d characters", n)
		}
		for _, c := range got {
			if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
				t.Fatalf("%q kept %U", got, c)
			}
		}
	})
}
