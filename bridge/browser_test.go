package bridge_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/internal/simtest"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/oqs/oqssim"
)

// chromium finds the browser; without it the test fails in CI (where make
// deps installs it) and is skipped elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("MYNAKIT_CHROMIUM"), "chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed; the browser test must run in CI (make deps installs the chromium package)")
	}
	t.Skip("Chromium is not installed (make deps installs it; the test fails instead when CI is set)")
	return ""
}

// chromiumOptions start headless Chromium with a fresh profile and the
// flags that keep it off the network (without them it stalls on a closed
// network), plus any extra options.
func chromiumOptions(t *testing.T, extra ...chromedp.ExecAllocatorOption) []chromedp.ExecAllocatorOption {
	t.Helper()
	return append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
	}, extra...)
}

// browser starts headless Chromium (chromiumOptions) for the counter page.
func browser(t *testing.T) context.Context {
	t.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(t)...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	ctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelT)
	// The page's console, shown when a case fails.
	var mu sync.Mutex
	var console []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("browser console:\n%s", strings.Join(console, "\n"))
		}
	})
	return ctx
}

// until polls a JavaScript condition in the page.
func until(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v\npage:\n%s", what, err, body)
	}
}

func text(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// typePIN types the PIN into the consent page the counter page shows in
// its dialog, and submits it, as the holder does with the keyboard.
func typeIntoConsent(t *testing.T, ctx context.Context, field, value string) {
	t.Helper()
	until(t, ctx, "the consent dialog asks", `(() => {
		const dlg = document.getElementById('consent-dialog');
		const f = document.getElementById('consent-frame');
		const d = f && f.contentDocument;
		return !!(dlg.open && d && d.getElementById('`+field+`') && d.readyState === 'complete');
	})()`)
	// The button is armed only once the page has been visible a moment.
	until(t, ctx, "the consent page arms its button", `(() => {
		const d = document.getElementById('consent-frame').contentDocument;
		const b = d && d.getElementById('allow');
		return !!(b && !b.disabled);
	})()`)
	frames, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#consent-frame")))
	if err != nil || len(frames) != 1 {
		t.Fatalf("consent frame: %v", err)
	}
	in := chromedp.FromNode(frames[0])
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#"+field), value, in),
		chromedp.Click(chromedp.CSS("#allow"), in),
	); err != nil {
		t.Fatal(err)
	}
}

// The counter page end to end: a card is put in, the holder types the PIN
// on the consent page, the facts, the photo and the genuine badge show,
// and pulling the card clears the screen.
func TestCounterPageInTheBrowser(t *testing.T) {
	bctx := browser(t)
	t.Run("genuine", func(t *testing.T) {
		e := start(t, withoutCard())
		counter(t, bctx, e, func(ctx context.Context) {
			until(t, ctx, "the badge says genuine", `document.getElementById('badge').textContent.includes('真正') && document.getElementById('badge').textContent.includes('genuine') && document.getElementById('badge').classList.contains('genuine')`)
			if s := text(t, ctx, `document.getElementById('f-name').textContent + ' ' + document.getElementById('f-mynumber').textContent`); s != "黒桐　幹也 **** **** 7188" {
				t.Errorf("facts %q, want the My Number masked", s)
			}
			if s := text(t, ctx, `document.body.innerText`); strings.Contains(s, "537686677188") || strings.Contains(s, "5376 8667") {
				t.Errorf("the full My Number is on the page before it is revealed")
			}
			// Revealing needs a purpose, and is logged (the purpose, never the number).
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#reveal"))); err != nil {
				t.Fatal(err)
			}
			if s := text(t, ctx, `document.getElementById('f-mynumber').textContent`); s != "**** **** 7188" {
				t.Errorf("revealed without a purpose: %q", s)
			}
			if n := revealEntries(t, e); len(n) != 0 {
				t.Errorf("logged without a purpose: %v", n)
			}
			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#reveal-purpose"), "番号確認書類の記入 filling in the form"), chromedp.Click(chromedp.CSS("#reveal"))); err != nil {
				t.Fatal(err)
			}
			until(t, ctx, "the number is shown", `document.getElementById('f-mynumber').textContent === '5376 8667 7188' && document.getElementById('reveal-form').hidden`)
			got := revealEntries(t, e)
			if len(got) != 2 || got[0].Note != "番号確認書類の記入 filling in the form" || got[1].Outcome != "ok" || got[0].Reader != simReader {
				t.Errorf("reveal log entries: %+v", got)
			}
			if raw, err := os.ReadFile(e.log.Path()); err != nil || strings.Contains(string(raw), "537686677188") {
				t.Errorf("the access log holds the My Number (or cannot be read: %v)", err)
			}
			screens(t, ctx, "counter", "#badge", "#f-mynumber", "button")
			if s := text(t, ctx, `document.getElementById('badge').getAttribute('role') + ' ' + document.getElementById('failed-box').hidden`); s != "status true" {
				t.Errorf("badge role and failed list: %s", s)
			}
			// The photo at three times its stored pixels, smoothly scaled.
			until(t, ctx, "the photo is enlarged", `document.getElementById('photo').width > 0 && document.getElementById('photo').width === 3 * document.getElementById('photo').naturalWidth`)
			if s := text(t, ctx, `(() => { const i = document.getElementById('photo'); const r = i.getBoundingClientRect(); return [getComputedStyle(i).imageRendering, Math.round(r.width) >= 3 * i.naturalWidth, i.naturalWidth > 0].join(' '); })()`); s != "auto true true" {
				t.Errorf("photo rendering, shown width ≥ 3× stored, has pixels: %s", s)
			}
			// The name and address images the card signed, beside their
			// text: shown, with pixels, smoothly enlarged, labelled in
			// Japanese and English.
			for _, id := range []string{"face-name", "face-address"} {
				until(t, ctx, "the "+id+" image shows", `(() => { const i = document.getElementById('`+id+`'); return !i.hidden && i.complete && i.naturalWidth > 0 && i.naturalHeight > 0 && i.width > 0; })()`)
				if s := text(t, ctx, `(() => { const i = document.getElementById('`+id+`'); const r = i.getBoundingClientRect(); return [getComputedStyle(i).imageRendering, r.width > 0 && r.height > 0, Number(i.getAttribute('width')) === 2 * i.naturalWidth && r.width >= i.naturalWidth, /[\u3040-\u30ff\u4e00-\u9fff]/.test(i.alt) && /[a-z]/.test(i.alt), i.closest('dd').querySelector('span').textContent !== '', i.naturalWidth + 'x' + i.naturalHeight, Math.round(r.width) + 'x' + Math.round(r.height)].join(' '); })()`); !strings.HasPrefix(s, "auto true true true true ") {
					t.Errorf("%s: rendering, shown size, 2× stored, ja+en alt, beside its text, stored and shown sizes: %s", id, s)
				}
			}
			if s := text(t, ctx, `document.getElementById('test-anchors').hidden ? 'hidden' : 'shown'`); s != "shown" {
				t.Error("the test-anchor warning is not shown for the simulator's keys")
			}
			for id, want := range map[string]string{"f-card-expiry": "2035-02-17 (令和17年2月17日)", "f-cert-expiry": "2030-02-17 (令和12年2月17日)", "f-birth": "1980-02-17 (昭和55年2月17日)", "f-sex": "男"} {
				if s := text(t, ctx, `document.getElementById('`+id+`').textContent`); !strings.Contains(s, want) {
					t.Errorf("%s: %q, want %q", id, s, want)
				}
			}
		})
	})
	t.Run("tampered card", func(t *testing.T) {
		img := simtest.Image(t)
		// A forger changed the name on the chip without J-LIS's key.
		attr := simtest.EF(t, img, myna.Text, myna.TextAttributes)
		off, _ := simtest.Field(t, attr, 0xDF22)
		attr[off+2] ^= 0x01
		e := start(t, withoutCard(), withImage(img))
		counter(t, bctx, e, func(ctx context.Context) {
			until(t, ctx, "the badge says not genuine", `document.getElementById('badge').classList.contains('not-genuine') && document.getElementById('badge').textContent.includes('真正でない')`)
			failed := text(t, ctx, `[...document.querySelectorAll('#failed li')].map(li => li.dataset.check + ': ' + li.textContent).join('\n')`)
			if !strings.Contains(failed, "text:attributes-digest") || !strings.Contains(failed, "基本4情報") || !strings.Contains(failed, "失敗") {
				t.Fatalf("the failed check is not shown in words:\n%s", failed)
			}
		})
	})
	t.Run("wrong PIN", func(t *testing.T) {
		e := start(t, withoutCard())
		ctx, cancel := chromedp.NewContext(bctx)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(e.b.OpenURL(time.Minute))); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, "the page is connected", `document.getElementById('connection').textContent.includes('接続しました')`)
		if err := e.local.Insert(simReader); err != nil {
			t.Fatal(err)
		}
		typeIntoConsent(t, ctx, "secret", "9999")
		// The dialog stays, asks again with the tries left, and warns
		// before the last try the bridge allows.
		until(t, ctx, "the dialog asks again", `(() => {
			const f = document.getElementById('consent-frame');
			const d = f.contentDocument;
			const l = d && d.querySelector('label[for=secret]');
			return document.getElementById('consent-dialog').open && !document.getElementById('consent-warning').hidden && d.readyState === 'complete' && !!l && l.textContent.includes('残り2回');
		})()`)
		warn := text(t, ctx, `(() => { const w = document.getElementById('consent-warning'); return (w.hidden ? 'hidden ' : '') + w.className + ' ' + w.textContent; })()`)
		if !strings.Contains(warn, "残り2回") || !strings.Contains(warn, "last-try") || !strings.Contains(warn, "2 tries left") || strings.HasPrefix(warn, "hidden") {
			t.Errorf("warning after a wrong PIN: %q", warn)
		}
		if s := text(t, ctx, `document.getElementById('consent-frame').contentDocument.querySelector('label[for=secret]').textContent`); !strings.Contains(s, "残り2回") {
			t.Errorf("the consent form's label: %q", s)
		}
		if s := text(t, ctx, `document.getElementById('photo-caption').textContent + '|' + document.getElementById('error').hidden + '|' + document.getElementById('again').hidden`); strings.Contains(s, "読み取り中") || !strings.HasSuffix(s, "|true|true") {
			t.Errorf("caption, error and read-again after a wrong PIN: %q", s)
		}
		typeIntoConsent(t, ctx, "secret", simtest.PIN)
		until(t, ctx, "the badge says genuine", `document.getElementById('badge').classList.contains('genuine') && !document.getElementById('consent-dialog').open`)
		if s := text(t, ctx, `document.getElementById('photo-caption').textContent + (document.getElementById('consent-warning').hidden ? '' : ' (warning still shown)')`); strings.Contains(s, "読み取り中") || strings.Contains(s, "warning") {
			t.Errorf("after the read: %q", s)
		}
	})
	t.Run("cancel a waiting consent", func(t *testing.T) {
		e := start(t, withoutCard())
		ctx, cancel := chromedp.NewContext(bctx)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(e.b.OpenURL(time.Minute))); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, "the page is connected", `document.getElementById('connection').textContent.includes('接続しました')`)
		// A site asks to pair and nobody answers: the counter lists the
		// question and cancels it.
		r := e.do("POST", "/v1/pair", nil, map[string]string{"Origin": appOrigin})
		id := decodeJSON(t, r.body)["id"].(string)
		sel := `#pending-list li[data-id="` + id + `"] button`
		until(t, ctx, "the counter lists the question", `!document.getElementById('pending').hidden && !!document.querySelector('`+sel+`') && document.getElementById('pending-list').textContent.includes('`+appOrigin+`')`)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.querySelector('`+sel+`').click(); return true; })()`)); err != nil {
			t.Fatal(err)
		}
		if v := e.op(id, map[string]string{"Origin": appOrigin}, finished); v["state"] != "cancelled" {
			t.Fatalf("after cancel: %v", v)
		}
		until(t, ctx, "the list empties", `document.getElementById('pending').hidden`)
	})
	t.Run("keyboard only", func(t *testing.T) {
		e := start(t, withoutCard())
		ctx, cancel := chromedp.NewContext(bctx)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768), chromedp.Navigate(e.b.OpenURL(time.Minute))); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, "the page is connected", `document.getElementById('connection').textContent.includes('接続しました')`)
		if err := e.local.Insert(simReader); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, "the consent dialog asks", `(() => {
			const d = document.getElementById('consent-frame').contentDocument;
			const b = d && d.getElementById('allow');
			return document.getElementById('consent-dialog').open && d.readyState === 'complete' && !!d.getElementById('secret') && !!b && !b.disabled;
		})()`)
		// Tab (never a click) until the PIN field has the focus; type the
		// PIN; Enter submits it.
		tabTo(t, ctx, "the PIN field", `(() => { const f = document.getElementById('consent-frame'); return document.activeElement === f && f.contentDocument.activeElement && f.contentDocument.activeElement.id === 'secret'; })()`)
		if err := chromedp.Do(ctx, chromedp.KeyEvent(simtest.PIN), chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, "the badge says genuine", `document.getElementById('badge').classList.contains('genuine') && !document.getElementById('consent-dialog').open && !document.getElementById('reveal-form').hidden`)
		// The reveal form, by keyboard too: Tab to the purpose, type it,
		// Enter.
		tabTo(t, ctx, "the reveal purpose", `document.activeElement && document.activeElement.id === 'reveal-purpose'`)
		if err := chromedp.Do(ctx, chromedp.KeyEvent("keyboard test"), chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, "the number is shown", `document.getElementById('f-mynumber').textContent === '5376 8667 7188' && document.getElementById('reveal-form').hidden`)
		if got := revealEntries(t, e); len(got) != 2 || got[0].Note != "keyboard test" {
			t.Errorf("reveal log entries: %+v", got)
		}
	})
	t.Run("code-b form", func(t *testing.T) {
		e := start(t, withoutCard())
		ctx, cancel := chromedp.NewContext(bctx)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768), chromedp.Navigate(e.b.OpenURL(time.Minute))); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, "the page is connected", `document.getElementById('connection').textContent.includes('接続しました')`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input[name=secret][value=code-b]`))); err != nil {
			t.Fatal(err)
		}
		if err := e.local.Insert(simReader); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, "the code-b form asks", `(() => {
			const d = document.getElementById('consent-frame').contentDocument;
			const b = d && d.getElementById('allow');
			return document.getElementById('consent-dialog').open && d.readyState === 'complete' && !!d.getElementById('code_b') && !!b && !b.disabled;
		})()`)
		// The placeholder is a format hint, never the persona's birth date
		// (it looked pre-filled).
		ph := text(t, ctx, `[...document.getElementById('consent-frame').contentDocument.querySelectorAll('input')].map(i => i.placeholder).join('|')`)
		if strings.Contains(ph, "1980") || strings.Contains(ph, "0217") || strings.Contains(ph, "02-17") || !strings.Contains(ph, "YYYY") {
			t.Errorf("placeholders %q: want a format hint, not the demo's birth date", ph)
		}
		// The submit button is on the first screen: inside the frame's
		// view, and the frame's spot inside the window.
		for _, size := range [][2]int64{{1024, 768}, {1280, 900}} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1])); err != nil {
				t.Fatal(err)
			}
			if s := text(t, ctx, `(() => {
				const f = document.getElementById('consent-frame'), w = f.contentWindow, d = f.contentDocument;
				w.scrollTo(0, 0);
				const fr = f.getBoundingClientRect();
				const bad = [];
				for (const id of ['allow', 'deny', 'code_b', 'birth']) {
					const r = d.getElementById(id).getBoundingClientRect();
					const top = fr.top + f.clientTop + r.top, bottom = fr.top + f.clientTop + r.bottom;
					if (r.top < 0 || r.bottom > f.clientHeight || r.right > f.clientWidth || top < 0 || bottom > innerHeight) bad.push(id + ' at ' + Math.round(r.top) + '..' + Math.round(r.bottom) + ' of ' + f.clientHeight);
				}
				const c = document.getElementById('consent-cancel').getBoundingClientRect();
				if (c.top < 0 || c.bottom > innerHeight) bad.push('consent-cancel at ' + Math.round(c.top) + '..' + Math.round(c.bottom));
				return bad.join('; ');
			})()`); s != "" {
				t.Errorf("code-b form at %dx%d: not visible without scrolling: %s", size[0], size[1], s)
			}
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err == nil {
				_ = os.MkdirAll(filepath.Join("testdata", "screenshots"), 0o755)
				_ = os.WriteFile(filepath.Join("testdata", "screenshots", fmt.Sprintf("code-b-%dx%d.png", size[0], size[1])), png, 0o644)
			}
		}
		typeIntoConsent(t, ctx, "code_b", simtest.CodeB)
		until(t, ctx, "the badge says genuine", `document.getElementById('badge').classList.contains('genuine')`)
		until(t, ctx, "the My Number row says why it is empty", `document.getElementById('f-mynumber').textContent.includes('照合番号Bでは個人番号は開けません')`)
	})
	clinic := func(t *testing.T, patient string, check func(ctx context.Context)) {
		root := t.TempDir()
		sc, err := oqssim.ParseScenarios([]byte(clinicScenario))
		if err != nil {
			t.Fatal(err)
		}
		term, err := oqssim.New(oqssim.Config{Root: root, Scenarios: sc})
		if err != nil {
			t.Fatal(err)
		}
		e := start(t, withoutCard(), withOptions(func(o *bridge.Options) {
			o.Clinic = &bridge.ClinicOptions{Root: root, ScanInterval: 20 * time.Millisecond}
		}))
		counter(t, bctx, e, func(ctx context.Context) {
			until(t, ctx, "the badge says genuine", `document.getElementById('badge').classList.contains('genuine')`)
			// The patient's face result arrives from the terminal.
			if _, err := term.EmitFace(context.Background(), patient); err != nil {
				t.Fatal(err)
			}
			until(t, ctx, "eligibility shows", `document.getElementById('eligibility-badge').textContent !== ''`)
			check(ctx)
		})
	}
	t.Run("clinic", func(t *testing.T) {
		clinic(t, "counter-patient", func(ctx context.Context) {
			until(t, ctx, "eligibility shows", `document.getElementById('eligibility-badge').textContent.includes('有効') && document.getElementById('eligibility-badge').textContent.includes('valid')`)
			if s := text(t, ctx, `document.getElementById('q-birth').textContent`); s != "1980-02-17 (昭和55年2月17日)" {
				t.Errorf("eligibility birth date %q", s)
			}
			ratio := text(t, ctx, `document.getElementById('q-ratio').textContent`)
			match := text(t, ctx, `document.getElementById('match').textContent`)
			name := text(t, ctx, `document.getElementById('f-name').textContent`)
			if !strings.Contains(ratio, "3割") || !strings.Contains(match, "一致") || strings.Contains(match, "一致しません") || name != "黒桐　幹也" {
				t.Fatalf("ratio %q, match %q, card name %q", ratio, match, name)
			}
			// Every button of the card area, beside the verdict, is on the
			// first screen with the eligibility result above it.
			screens(t, ctx, "clinic", "#badge", "#eligibility-badge", "#match", "#print", "#reveal", "#reveal-purpose", ".card-actions button")
			if s := text(t, ctx, `[...document.querySelectorAll('#print, #reveal')].filter(e => e.offsetParent).length + ''`); s != "2" {
				t.Errorf("print and reveal shown: %s of 2", s)
			}
			// The label "Contribution ratio" does not run into the value.
			if s := text(t, ctx, `(() => {
				const dd = document.getElementById('q-ratio');
				const dt = dd.parentElement.querySelector('dt');
				const a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
				const r = document.createRange(); r.selectNodeContents(dt);
				const t = r.getBoundingClientRect();
				return t.right <= b.left ? 'apart' : 'overlap ' + t.right + ' > ' + b.left + ' ' + a.right;
			})()`); s != "apart" {
				t.Errorf("the ratio's label and value: %s", s)
			}
		})
	})
	t.Run("clinic mismatch", func(t *testing.T) {
		clinic(t, "other-patient", func(ctx context.Context) {
			until(t, ctx, "the result says check", `document.getElementById('eligibility-badge').textContent.includes('要確認')`)
			badges := text(t, ctx, `[...document.querySelectorAll('#clinic .badge')].filter(b => !b.hidden && b.offsetParent).map(b => b.textContent).join('|')`)
			if strings.Contains(badges, "有効") || !strings.Contains(badges, "要確認") {
				t.Errorf("clinic badges on a mismatch: %q", badges)
			}
			if s := text(t, ctx, `(() => {
				const b = document.getElementById('eligibility-badge'), m = document.getElementById('match'), d = document.querySelector('#clinic-result dl');
				return [b.className, getComputedStyle(b).backgroundColor, document.getElementById('clinic-result').className, b.getBoundingClientRect().top < d.getBoundingClientRect().top && m.getBoundingClientRect().top < d.getBoundingClientRect().top].join(' ');
			})()`); s != "badge check rgb(163, 13, 13) mismatch true" {
				t.Errorf("the mismatch state: %q", s)
			}
			if s := text(t, ctx, `document.getElementById('match').textContent`); !strings.Contains(s, "一致しません") {
				t.Errorf("match line %q", s)
			}
			screens(t, ctx, "clinic-mismatch", "#badge", "#eligibility-badge", "#match")
		})
	})
}

// screens checks the page at 1280×900 and 1024×768: Japanese renders
// with real glyphs (not the missing-glyph box), the elements named are
// visible without scrolling (the clinic case names the card's buttons
// too), every control has a label; and it writes a
// screenshot of each into the artifact directory ($MYNAKIT_ARTIFACTS, or
// bridge/testdata/screenshots, which git ignores).
func screens(t *testing.T, ctx context.Context, name string, visible ...string) {
	t.Helper()
	dir := os.Getenv("MYNAKIT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Japanese in the page's font, drawn: two different characters drawn
	// the same are the missing-glyph box (no CJK font); a character drawn
	// the same as U+FFFF (which no font has) is too.
	if s := text(t, ctx, `(() => {
		const font = getComputedStyle(document.querySelector('h1')).font;
		const draw = (ch) => {
			const c = document.createElement('canvas'); c.width = c.height = 64;
			const g = c.getContext('2d'); g.font = font.replace(/\d+(\.\d+)?px/, '48px'); g.fillStyle = '#000'; g.textBaseline = 'top';
			g.fillText(ch, 4, 4);
			return Array.from(g.getImageData(0, 0, 64, 64).data).join(',');
		};
		const a = draw('窓'), b = draw('口'), tofu = draw('\uFFFF');
		// The check holds only if missing glyphs draw alike.
		if (tofu !== draw('\uFFFE')) return 'missing glyphs draw differently: the check cannot tell';
		return a !== b && a !== tofu && b !== tofu ? 'glyphs' : 'missing glyphs in ' + font;
	})()`); s != "glyphs" {
		t.Errorf("Japanese renders as missing glyphs (make deps installs fonts-noto-cjk): %s", s)
	}
	for _, size := range [][2]int64{{1280, 900}, {1024, 768}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1])); err != nil {
			t.Fatal(err)
		}
		text(t, ctx, `(() => { window.scrollTo(0, 0); return ''; })()`)
		for _, sel := range visible {
			out := text(t, ctx, `[...document.querySelectorAll('`+sel+`')].filter(e => e.offsetParent && !e.closest('[hidden]') && !e.closest('dialog:not([open])')).map(e => {
				const r = e.getBoundingClientRect();
				return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth ? '' : (e.id || e.textContent.trim().slice(0, 20)) + ' at ' + Math.round(r.top) + '..' + Math.round(r.bottom);
			}).filter(Boolean).join('; ')`)
			if out != "" {
				t.Errorf("%s at %dx%d: not visible without scrolling: %s", name, size[0], size[1], out)
			}
		}
		if s := text(t, ctx, `[...document.querySelectorAll('input, button, select, textarea')].filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.id || e.name).join(', ')`); s != "" {
			t.Errorf("controls without a label: %s", s)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, fmt.Sprintf("%s-%dx%d.png", name, size[0], size[1]))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", file)
	}
}

// revealEntries are the access log's records of a revealed My Number.
func revealEntries(t *testing.T, e *env) []accesslog.Entry {
	t.Helper()
	_, entries, err := accesslog.Verify(e.log.Path())
	if err != nil {
		t.Fatal(err)
	}
	var out []accesslog.Entry
	for _, en := range entries {
		if en.Action == string(bridge.ActionRevealMyNumber) {
			out = append(out, en)
		}
	}
	return out
}

// clinicScenario is the default persona as a patient of the simulated
// terminal.
const clinicScenario = `scenarios:
  - name: counter-patient
    kind: valid
    match: {insurer: "01130012", symbol: "7", number: "1", branch: "00", birth: "19800217"}
    validity: "1"
    results:
      - InsuredCardClassification: "01"
        InsurerNumber: "01130012"
        InsuredCardSymbol: "7"
        InsuredIdentificationNumber: "1"
        InsuredBranchNumber: "00"
        PersonalFamilyClassification: "1"
        InsuredName: 黒桐　幹也
        Name: 黒桐　幹也
        NameKana: ｺｸﾄｳ ﾐｷﾔ
        Sex1: "1"
        Birthdate: "19800217"
        InsuredPartialContributionRatio: "030"
        InsurerName: 模擬健康保険組合
  - name: other-patient
    kind: valid
    match: {insurer: "01130012", symbol: "7", number: "2", branch: "00", birth: "19781221"}
    validity: "1"
    results:
      - InsuredCardClassification: "01"
        InsurerNumber: "01130012"
        InsuredCardSymbol: "7"
        InsuredIdentificationNumber: "2"
        InsuredBranchNumber: "00"
        PersonalFamilyClassification: "1"
        InsuredName: 両儀　式
        Name: 両儀　式
        NameKana: ﾘｮｳｷﾞ ｼｷ
        Sex1: "2"
        Birthdate: "19781221"
        InsuredPartialContributionRatio: "010"
        InsurerName: 模擬健康保険組合
`

// counter opens the counter page through a one-time URL (as mynakit open
// does), puts the card in, types the PIN on the consent page, waits for
// the facts (name and address before the photo), runs check, then pulls
// the card and sees the screen cleared.
func counter(t *testing.T, bctx context.Context, e *env, check func(ctx context.Context)) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	// Without the session, the page says how to open it and holds no
	// token.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the page says how to open it", `!document.getElementById('closed').hidden && document.getElementById('main').hidden && document.body.innerText.includes('mynakit open')`)
	if s := text(t, ctx, `String(sessionStorage.getItem('mynakit-session')) + '|' + document.cookie`); s != "null|" {
		t.Fatalf("a session without the one-time URL: %q", s)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.b.OpenURL(time.Minute))); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the page is connected", `document.getElementById('connection').textContent.includes('接続しました')`)
	// The ticket does not stay in the address bar; no cookie was set; the
	// session is in this origin's sessionStorage.
	if s := text(t, ctx, `location.pathname + location.search + location.hash + '|' + document.cookie + '|' + (sessionStorage.getItem('mynakit-session') || '').length`); s != "/||44" {
		t.Fatalf("after the one-time URL: %q", s)
	}
	until(t, ctx, "the page waits for a card", `!document.getElementById('waiting').hidden && document.getElementById('card').hidden`)
	// Note the order in which the facts appear.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		window.__order = [];
		const seen = (what) => { if (!window.__order.includes(what)) window.__order.push(what); };
		new MutationObserver(() => {
			if (document.getElementById('f-name').textContent) seen('name');
			if (document.getElementById('f-address').textContent) seen('address');
			const img = document.getElementById('photo');
			if (!img.hidden && img.getAttribute('src')) seen('photo');
		}).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	if err := e.local.Insert(simReader); err != nil {
		t.Fatal(err)
	}
	typeIntoConsent(t, ctx, "secret", simtest.PIN)
	until(t, ctx, "the facts show", `document.getElementById('f-name').textContent.endsWith('桐　幹也') && document.getElementById('f-address').textContent.startsWith('東京都')`)
	until(t, ctx, "the photo shows", `(() => { const i = document.getElementById('photo'); return !i.hidden && i.complete && i.naturalWidth > 0; })()`)
	until(t, ctx, "the consent dialog closed", `!document.getElementById('consent-dialog').open`)
	if order := text(t, ctx, `window.__order.join(',')`); !strings.HasPrefix(order, "name,address") || !strings.Contains(order, "photo") {
		t.Errorf("facts appeared in the order %q, want name and address before the photo", order)
	}
	check(ctx)
	if err := e.local.Remove(simReader); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the screen is cleared", `document.getElementById('card').hidden && !document.getElementById('waiting').hidden && document.getElementById('f-name').textContent === '' && !document.getElementById('photo').getAttribute('src') && !document.getElementById('face-name').getAttribute('src') && document.getElementById('face-address').hidden`)
}

// The counter's session stays with its origin (scheme, host and port).
// Browsers scope cookies by host, not port, and count every port of
// 127.0.0.1 as the same site; so a program on another loopback port that
// the clerk's browser visits (a link, then its own page's navigation)
// would receive a session cookie. It receives no cookie and cannot read
// the session; the one-time URL's ticket never reaches a server (it is in
// the fragment); and a used one-time URL opens nothing.
func TestCounterSessionStaysOnItsPort(t *testing.T) {
	bctx := browser(t)
	var mu sync.Mutex
	var lines []string // every request line and Referer the bridge saw
	e := start(t, withoutCard(), withWrap(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			lines = append(lines, r.Method+" "+r.RequestURI+" "+r.Header.Get("Referer"))
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}))
	// The other program, on another port of the same host.
	var got []string // path and Cookie header of every request it saw
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	other := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" cookie="+r.Header.Get("Cookie"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/" {
			_, _ = io.WriteString(w, `<!DOCTYPE html><title>link</title><script>location.href = '/next';</script>`)
			return
		}
		_, _ = io.WriteString(w, `<!DOCTYPE html><title>next</title><p id="done">next</p>`)
	})}
	go func() { _ = other.Serve(ln) }()
	t.Cleanup(func() { other.Close() })

	ctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	u := e.b.OpenURL(time.Minute)
	_, ticket, _ := strings.Cut(u, "#ticket=")
	if ticket == "" {
		t.Fatalf("no ticket in the fragment: %s", u)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the page is connected", `document.getElementById('connection').textContent.includes('接続しました')`)
	// The clerk follows a link to the other program, whose page moves on
	// by itself (a same-site navigation).
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+ln.Addr().String()+"/")); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the other page moved on", `location.pathname === '/next' && !!document.getElementById('done')`)
	if s := text(t, ctx, `String(sessionStorage.getItem('mynakit-session')) + '|' + sessionStorage.length + '|' + document.cookie`); s != "null|0|" {
		t.Errorf("the other port's page sees %q", s)
	}
	mu.Lock()
	if len(got) < 2 {
		t.Errorf("the other program saw %v", got)
	}
	for _, g := range got {
		if !strings.HasSuffix(g, " cookie=") {
			t.Errorf("the other program received a cookie: %s", g)
		}
	}
	mu.Unlock()
	// The used one-time URL, in a new tab, opens nothing.
	again, cancelAgain := chromedp.NewContext(bctx)
	defer cancelAgain()
	if err := chromedp.Do(again, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	until(t, again, "the used URL opens nothing", `!document.getElementById('closed').hidden && sessionStorage.getItem('mynakit-session') === null && location.hash === ''`)
	// No page of the bridge in this browser holds the session now: a
	// consent page opened on its own (as a site's pop-up is) cannot
	// answer, and says to open the counter page.
	r := e.do("POST", "/v1/pair", nil, map[string]string{"Origin": appOrigin})
	id := decodeJSON(t, r.body)["id"].(string)
	alone, cancelAlone := chromedp.NewContext(bctx)
	defer cancelAlone()
	if err := chromedp.Do(alone, chromedp.Navigate(e.url+"/consent/"+id)); err != nil {
		t.Fatal(err)
	}
	until(t, alone, "the consent page arms its button", `(() => { const b = document.getElementById('allow'); return !!(b && !b.disabled); })()`)
	if err := chromedp.Do(alone, chromedp.Click(chromedp.CSS("#allow"))); err != nil {
		t.Fatal(err)
	}
	until(t, alone, "the page says to open the counter page", `(document.getElementById('status') || {textContent: ''}).textContent.includes('mynakit open') && !!document.getElementById('allow')`)
	if v := e.op(id, map[string]string{"Origin": appOrigin}, func(string) bool { return true }); v["state"] != "consent" {
		t.Fatalf("answered without the session: %v", v)
	}
	mu.Lock()
	defer mu.Unlock()
	spent := false
	for _, l := range lines {
		if strings.Contains(l, ticket) || strings.Contains(l, "ticket=") {
			t.Errorf("the ticket reached the bridge in a request line or Referer: %s", l)
		}
		spent = spent || strings.HasPrefix(l, "POST /v1/session ")
	}
	if !spent {
		t.Errorf("the page never posted its ticket: %v", lines)
	}
}

// tabTo presses Tab (a key event, never a click) until the condition holds,
// and checks on the way that every control the focus lands on shows it (a
// :focus-visible outline).
func tabTo(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	for range 60 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		if s := text(t, ctx, `(() => {
			let e = document.activeElement;
			while (e && e.contentDocument && e.contentDocument.activeElement) e = e.contentDocument.activeElement;
			if (!e || e === e.ownerDocument.body) return '';
			const st = getComputedStyle(e);
			return st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2 ? '' : (e.id || e.name || e.tagName) + ' shows no focus';
		})()`); s != "" {
			t.Errorf("keyboard focus: %s", s)
		}
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
	}
	t.Fatalf("Tab never reached %s", what)
}
