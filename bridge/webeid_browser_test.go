package bridge_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/examples/relyingparty/rp"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/trust"
)

// lnaBrowser starts headless Chromium with the relying party's address
// marked public (--ip-address-space-overrides, the switch web-platform-tests
// use for Local Network Access), so that its page reaching the loopback
// bridge needs the user's permission, as a real portal's page does.
func lnaBrowser(t *testing.T, publicAddr string) context.Context {
	t.Helper()
	opts := chromiumOptions(t, chromedp.Flag("ip-address-space-overrides", publicAddr+"=public"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// permission sets the relying party's loopback-network permission through
// CDP, as the user's answer to the browser's question would.
func permission(t *testing.T, ctx context.Context, origin, setting string) {
	t.Helper()
	br := chromedp.FromContext(ctx).Browser
	var err error
	if setting == "granted" {
		err = br.Call(ctx, "Browser.grantPermissions", map[string]any{"permissions": []string{"loopbackNetwork"}, "origin": origin}, nil)
	} else {
		err = br.Call(ctx, "Browser.setPermission", map[string]any{"permission": map[string]any{"name": "loopback-network"}, "setting": setting, "origin": origin}, nil)
	}
	if err != nil {
		t.Fatalf("%s loopback-network: %v", setting, err)
	}
}

// The example relying party logs in end to end in Chromium: its page, on
// an address marked public, reaches the bridge on loopback only with the
// Local Network Access permission. Without an answer, and when denied, the
// page explains what to do; granted, the site pairs (the holder allows it
// on the consent page), the holder types the PIN on the consent page that
// names the site, and the relying party shows the identity it validated.
func TestWebEIDLoginInTheBrowser(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rpOrigin := "http://" + ln.Addr().String()
	e := start(t, withoutCard(), withOptions(func(o *bridge.Options) {
		o.AllowOrigins = append(o.AllowOrigins, rpOrigin)
		o.DigestSigners = []string{rpOrigin}
	}))
	store := trust.Embedded()
	if err := store.AddDir(simtest.TrustDir(t)); err != nil {
		t.Fatal(err)
	}
	site, err := rp.New(rp.Config{Origin: rpOrigin, Bridge: e.url, Trust: store, AllowTestAnchors: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: site}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	bctx := lnaBrowser(t, ln.Addr().String())
	// The holder's browser has the counter session (mynakit open): only
	// it answers consent pages.
	holder, cancelHolder := chromedp.NewContext(bctx)
	defer cancelHolder()
	if err := chromedp.Do(holder, chromedp.Navigate(e.b.OpenURL(time.Minute))); err != nil {
		t.Fatal(err)
	}
	until(t, holder, "the counter page is connected", `document.getElementById('connection').textContent.includes('接続しました')`)
	// The counter page reads every card put in; leave it before the card
	// goes in, so that the reader is free for the site, for a page of the
	// bridge that reads nothing (a consent page with nothing to ask). The
	// tab keeps its session in sessionStorage, and the bridge's page lends
	// it to the consent pages the site opens (a BroadcastChannel of the
	// bridge's origin).
	if err := chromedp.Do(holder, chromedp.Navigate(e.url+"/consent/idle")); err != nil {
		t.Fatal(err)
	}
	until(t, holder, "the holder's tab keeps the session", `!!sessionStorage.getItem('mynakit-session') && !!document.getElementById('status')`)
	if err := e.local.Insert(simReader); err != nil {
		t.Fatal(err)
	}
	e.waitReader(true, true)

	page, cancelPage := chromedp.NewContext(bctx)
	defer cancelPage()
	pageTimeout, cancelT := context.WithTimeout(page, 3*time.Minute)
	defer cancelT()
	page = pageTimeout
	lang := "ja"
	load := func() {
		t.Helper()
		if err := chromedp.Do(page, chromedp.Navigate(rpOrigin+"/?lang="+lang)); err != nil {
			t.Fatal(err)
		}
		until(t, page, "the page checked the permission", `!!document.body.dataset.lna`)
	}
	// login clicks the button and waits for an error or the identity.
	login := func() (code, message string) {
		t.Helper()
		if err := chromedp.Do(page, chromedp.Click(chromedp.CSS("#login"))); err != nil {
			t.Fatal(err)
		}
		until(t, page, "the login ends or asks", `!document.getElementById('error').hidden || !document.getElementById('identity').hidden || !document.getElementById('consent').hidden`)
		return text(t, page, `document.getElementById('error').hidden ? '' : document.getElementById('error').dataset.code`), text(t, page, `document.getElementById('error').textContent`)
	}

	load()
	gating := text(t, page, `document.body.dataset.lna`)
	t.Logf("Chromium's loopback-network permission for the public page, unanswered: %q", gating)
	if gating == "unsupported" {
		t.Log("this Chromium does not know the loopback-network permission: the denied path cannot be checked; running the granted path only")
	} else {
		// Unanswered (a headless browser cannot show the question): the
		// page says to answer Allow.
		if hint := text(t, page, `document.getElementById('lna-hint').hidden ? '' : document.getElementById('lna-hint').textContent`); !strings.Contains(hint, "許可") {
			t.Errorf("no hint before the question: %q", hint)
		}
		// Headless Chromium cannot show the question and answers it
		// itself: the request fails and the page explains.
		code, msg := login()
		t.Logf("unanswered: the page says %s %q", code, msg)
		switch code {
		case "ERR_MYNAKIT_LNA_PROMPT", "ERR_MYNAKIT_LNA_DENIED":
			if !strings.Contains(msg, "ローカル ネットワーク アクセス") || !strings.Contains(msg, "許可") {
				t.Errorf("unanswered: the page says %q", msg)
			}
		case "":
			t.Fatal("this Chromium lets a public page reach loopback without the permission: LNA is not gating the --ip-address-space-overrides address")
		default:
			t.Errorf("unanswered: %s %q", code, msg)
		}
		// Denied: the page explains where to allow it.
		permission(t, page, rpOrigin, "denied")
		load()
		if s := text(t, page, `document.body.dataset.lna`); s != "denied" {
			t.Fatalf("after denying: %q", s)
		}
		code, msg = login()
		if code != "ERR_MYNAKIT_LNA_DENIED" || !strings.Contains(msg, "ローカル ネットワーク アクセス") || !strings.Contains(msg, "拒否") || !strings.Contains(msg, "許可") {
			t.Fatalf("denied: %s %q", code, msg)
		}
		// And in English for an English page.
		lang = "en"
		load()
		if code, msg = login(); code != "ERR_MYNAKIT_LNA_DENIED" || !strings.Contains(msg, "Local Network Access") || !strings.Contains(msg, "Allow") {
			t.Fatalf("denied, in English: %s %q", code, msg)
		}
		lang = "ja"
		// Nothing reached the bridge: no pairing waits for the holder.
		if r := e.do("GET", "/v1/consents", nil, e.counter()); r.status != 200 || strings.Contains(string(r.body), rpOrigin) {
			t.Fatalf("a denied page reached the bridge: %s", r.body)
		}
	}

	// Granted: the login completes.
	permission(t, page, rpOrigin, "granted")
	load()
	if s := text(t, page, `document.body.dataset.lna`); gating != "unsupported" && s != "granted" {
		t.Fatalf("after granting: %q", s)
	}
	consent, cancelConsent := chromedp.NewContext(bctx)
	defer cancelConsent()
	answer := func(seen, field, value string) string {
		t.Helper()
		until(t, page, "the page links the consent page", `!document.getElementById('consent').hidden && document.getElementById('consent-link').href !== '' && document.getElementById('consent-link').href !== '`+seen+`'`)
		link := text(t, page, `document.getElementById('consent-link').href`)
		if err := chromedp.Do(consent, chromedp.Navigate(link)); err != nil {
			t.Fatal(err)
		}
		until(t, consent, "the consent page arms its button", `(() => { const b = document.getElementById('allow'); return !!(b && !b.disabled); })()`)
		if field != "" {
			if err := chromedp.Do(consent, chromedp.SendKeys(chromedp.CSS("#"+field), value)); err != nil {
				t.Fatal(err)
			}
		}
		return link
	}
	opened := chromedp.WaitNewTarget(page, func(info *target.Info) bool { return strings.Contains(info.URL, "/consent/") })
	if err := chromedp.Do(page, chromedp.Click(chromedp.CSS("#login"))); err != nil {
		t.Fatal(err)
	}
	// The pairing: the consent page opens in a pop-up, where the holder
	// allows the site (the counter's session token, borrowed from the
	// holder's tab, goes with the answer).
	var popupID target.ID
	select {
	case popupID = <-opened:
	case <-time.After(30 * time.Second):
		t.Fatal("the client opened no consent pop-up")
	}
	popup, cancelPopup := chromedp.NewContext(bctx, chromedp.WithTargetID(popupID))
	defer cancelPopup()
	until(t, page, "the page links the consent page too", `!document.getElementById('consent').hidden && document.getElementById('consent-link').href !== ''`)
	link := text(t, page, `document.getElementById('consent-link').href`)
	until(t, popup, "the pop-up arms its button", `location.href === '`+link+`' && (() => { const b = document.getElementById('allow'); return !!(b && !b.disabled); })()`)
	if s := text(t, popup, `document.getElementById('origin').textContent`); s != rpOrigin {
		t.Errorf("the pairing page names %q, not the site", s)
	}
	if err := chromedp.Do(popup, chromedp.Click(chromedp.CSS("#allow"))); err != nil {
		t.Fatal(err)
	}
	// The login's consent page: a second pop-up in a row without a click
	// may be blocked, so the holder follows the page's link.
	// The login: the page says which origin logs in; the holder types the
	// PIN.
	link = answer(link, "secret", simtest.PIN)
	if s := text(t, consent, `document.getElementById('what').textContent + ' | ' + document.body.innerText`); !strings.Contains(s, rpOrigin+" にログインします") || !strings.Contains(s, "ログイン先: "+rpOrigin) {
		t.Errorf("the login consent page does not name the site:\n%s", s)
	}
	if err := chromedp.Do(consent, chromedp.Click(chromedp.CSS("#allow"))); err != nil {
		t.Fatal(err)
	}
	until(t, page, "the relying party shows the validated identity", `!document.getElementById('identity').hidden || !document.getElementById('error').hidden`)
	if msg := text(t, page, `document.getElementById('error').hidden ? '' : document.getElementById('error').dataset.code + ' ' + document.getElementById('error').textContent`); msg != "" {
		t.Fatalf("login failed: %s", msg)
	}
	serial := text(t, page, `document.getElementById('serial').textContent`)
	anchor := text(t, page, `document.getElementById('anchor').textContent`)
	rev := text(t, page, `document.getElementById('revocation').textContent`)
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(serial) || !strings.HasSuffix(anchor, "(test)") || rev != "not-checked" {
		t.Fatalf("identity: serial %q, anchor %q, revocation %q", serial, anchor, rev)
	}
	t.Logf("logged in: serial %s, anchor %s", serial, anchor)

	// The holder declines the next login: the page is told the user
	// cancelled.
	if err := chromedp.Do(page, chromedp.Click(chromedp.CSS("#login"))); err != nil {
		t.Fatal(err)
	}
	link = answer(link, "", "")
	if err := chromedp.Do(consent, chromedp.Click(chromedp.CSS("#deny"))); err != nil {
		t.Fatal(err)
	}
	until(t, page, "the page reports the refusal", `!document.getElementById('error').hidden`)
	if code, msg := text(t, page, `document.getElementById('error').dataset.code`), text(t, page, `document.getElementById('error').textContent`); code != "ERR_WEBEID_USER_CANCELLED" || !strings.Contains(msg, "キャンセル") {
		t.Fatalf("declined: %s %q", code, msg)
	}

	// Web eID's signing calls through the client: the signing
	// certificate, then a hash signed after the holder typed the signing
	// password on a page that says the content cannot be shown.
	digest := sha256.Sum256([]byte("契約書 contract"))
	if _, err := chromedp.Run(page, chromedp.Evaluate[bool](`(() => {
		window.__signed = '';
		const c = MynakitWebEid.create({bridge: document.body.dataset.bridge, onConsent(url) { const a = document.getElementById('consent-link'); a.href = url; document.getElementById('consent').hidden = false; }});
		c.getSigningCertificate({lang: 'ja'})
			.then(({certificate, supportedSignatureAlgorithms}) => c.sign(certificate, '`+base64.StdEncoding.EncodeToString(digest[:])+`', 'SHA-256', {lang: 'ja'})
				.then((r) => { window.__signed = JSON.stringify({certificate, algs: supportedSignatureAlgorithms, signature: r.signature, signatureAlgorithm: r.signatureAlgorithm}); }))
			.catch((e) => { window.__signed = 'ERR ' + e.code + ' ' + e.message; });
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	// Reading the signing certificate needs the signing password too.
	link = answer(link, "secret", simtest.SignPassword)
	if s := text(t, consent, `document.body.innerText`); !strings.Contains(s, "署名用電子証明書") || !strings.Contains(s, rpOrigin) {
		t.Errorf("the certificate consent page:\n%s", s)
	}
	if err := chromedp.Do(consent, chromedp.Click(chromedp.CSS("#allow"))); err != nil {
		t.Fatal(err)
	}
	answer(link, "secret", simtest.SignPassword)
	if s := text(t, consent, `document.body.innerText`); !strings.Contains(s, "署名する内容はこの画面に表示できません") || !strings.Contains(s, rpOrigin) || !strings.Contains(s, hexString(digest[:])) {
		t.Errorf("the signing consent page does not say the content cannot be shown:\n%s", s)
	}
	if err := chromedp.Do(consent, chromedp.Click(chromedp.CSS("#allow"))); err != nil {
		t.Fatal(err)
	}
	until(t, page, "the client signs", `window.__signed !== ''`)
	var signed struct {
		Certificate        []byte `json:"certificate"`
		Signature          []byte `json:"signature"`
		SignatureAlgorithm struct {
			CryptoAlgorithm, HashFunction, PaddingScheme string
		} `json:"signatureAlgorithm"`
		Algs []map[string]string `json:"algs"`
	}
	raw := text(t, page, `window.__signed`)
	if err := json.Unmarshal([]byte(raw), &signed); err != nil {
		t.Fatalf("sign: %s", raw)
	}
	cert, err := x509.ParseCertificate(signed.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], signed.Signature); err != nil || cert.KeyUsage&x509.KeyUsageContentCommitment == 0 {
		t.Fatalf("the signature is not the signing key's over the hash: %v", err)
	}
	if a := signed.SignatureAlgorithm; a.CryptoAlgorithm != "RSA" || a.HashFunction != "SHA-256" || a.PaddingScheme != "PKCS1.5" || len(signed.Algs) != 3 {
		t.Fatalf("algorithms: %+v %v", a, signed.Algs)
	}

	// No card: the page says to put it on the reader.
	if err := e.local.Remove(simReader); err != nil {
		t.Fatal(err)
	}
	e.waitReader(true, false)
	if err := chromedp.Do(page, chromedp.Click(chromedp.CSS("#login"))); err != nil {
		t.Fatal(err)
	}
	until(t, page, "the page reports the missing card", `!document.getElementById('error').hidden`)
	if code, msg := text(t, page, `document.getElementById('error').dataset.code`), text(t, page, `document.getElementById('error').textContent`); code != "ERR_MYNAKIT_NO_CARD" || !strings.Contains(msg, "カードリーダーにマイナンバーカードを置いて") {
		t.Fatalf("no card: %s %q", code, msg)
	}

	// A card whose PIN has one try left: the bridge never spends it, and
	// the page says to go to the municipality.
	img := simtest.Image(t)
	simtest.Applet(img, myna.JPKI).Keys[simulator.FIDString(myna.JPKIAuthPIN)].Remaining = 1
	if err := e.local.Add("last-try", simtest.Sim(t, img), true); err != nil {
		t.Fatal(err)
	}
	for i := 0; !strings.Contains(string(e.do("GET", "/v1/readers", nil, nil).body), `"name":"last-try","card_present":true`); i++ {
		if i > 1000 {
			t.Fatal("the bridge does not list the second reader")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := chromedp.Do(page, chromedp.Click(chromedp.CSS("#login"))); err != nil {
		t.Fatal(err)
	}
	until(t, page, "the page reports the PIN", `!document.getElementById('error').hidden && document.getElementById('error').dataset.code !== 'ERR_MYNAKIT_NO_CARD'`)
	if code, msg := text(t, page, `document.getElementById('error').dataset.code`), text(t, page, `document.getElementById('error').textContent`); code != "ERR_MYNAKIT_PIN_BLOCKED" || !strings.Contains(msg, "市区町村の窓口") {
		t.Fatalf("one try left: %s %q", code, msg)
	}
	if left, _, _ := e.sim.KeyState(myna.JPKI, myna.JPKIAuthPIN); left != 3 {
		t.Errorf("the first card's tries: %d", left)
	}

	// No bridge (the permission granted): the page says to start mynakit.
	e.stop()
	if err := chromedp.Do(page, chromedp.Click(chromedp.CSS("#login"))); err != nil {
		t.Fatal(err)
	}
	until(t, page, "the page reports the missing bridge", `document.getElementById('error').dataset.code !== 'ERR_MYNAKIT_PIN_BLOCKED' && !document.getElementById('error').hidden`)
	if code, msg := text(t, page, `document.getElementById('error').dataset.code`), text(t, page, `document.getElementById('error').textContent`); code != "ERR_WEBEID_NATIVE_UNAVAILABLE" || !strings.Contains(msg, "mynakit が起動しているか") {
		t.Fatalf("no bridge: %s %q", code, msg)
	}
}
