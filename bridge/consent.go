package bridge

import (
	"bytes"
	"context"
	"crypto/hmac"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
)

// ConsentRequest is what the holder is asked to agree to.
type ConsentRequest struct {
	// Origin is who asks: a web origin, or "app:NAME" for a local
	// application.
	Origin string
	Action Action // an operation action: read, photo, qr, certificate, authenticate, sign, pair
	Reader string
	What   string   // the operation, in Japanese and English
	Items  []string // the data or keys concerned
	Digest string   // the digest (hex) of what is signed, when signing
	// DigestAlg names Digest's algorithm (SHA-256, SHA-384, SHA-512).
	DigestAlg string
	// Document names a document to be signed and its size; empty for a
	// raw digest, whose content the bridge never sees.
	Document string
	Note     string
	// Secret is the secret asked for; Kind is 0 for a pairing.
	Secret pin.Request
}

// Consenter asks the holder instead of the consent page (mynakit serve
// --prompt terminal). Secret returns the secret the holder typed (the
// session wipes it after use); Pair says whether an origin may use the
// bridge.
type Consenter interface {
	Secret(ctx context.Context, req ConsentRequest) ([]byte, error)
	Pair(ctx context.Context, req ConsentRequest) (bool, error)
}

func (b *Bridge) consentRequest(op *operation, req pin.Request) ConsentRequest {
	cr := ConsentRequest{Origin: op.origin, Action: op.action, What: op.purpose.What, Items: op.purpose.Items, Digest: op.purpose.Digest,
		DigestAlg: op.purpose.DigestAlg, Document: op.document(), Note: op.purpose.Note, Secret: req}
	if op.reader != nil {
		cr.Reader = op.reader.name
	}
	return cr
}

// secretName is a secret kind's name in the API.
func secretName(k myna.Secret) string {
	switch k {
	case myna.ShortPIN:
		return "pin"
	case myna.SignPassword:
		return "sign-password"
	case myna.CodeA:
		return "code-a"
	case myna.CodeB, myna.BirthKey:
		return "code-b"
	}
	return "unknown"
}

//go:embed web
var webFS embed.FS

var consentTmpl = template.Must(template.ParseFS(webFS, "web/consent.html"))

type consentView struct {
	ID        string
	Origin    string
	App       string // a local application's name
	Self      bool
	Reader    string
	What      string
	Items     []string
	Digest    string
	DigestAlg string
	Document  string
	RawDigest bool
	Note      string
	CSRF      string
	Shown     string // when the page was served, for the arm delay
	ArmMS     int64
	Pair      bool   // a pairing
	YesNo     bool   // a question without a secret
	Kind      string // pin, sign-password, code-a, code-b
	Label     string
	Left      int
	Retry     bool
	Status    string // a message instead of a form
	Problem   bool
	Waiting   bool // refresh the page until there is something to ask
	Finished  bool
}

// handleConsentPage shows what the operation asks and the form for the
// holder's answer.
func (b *Bridge) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	op := b.findOp(r.PathValue("id"))
	b.renderConsent(w, r, op, "")
}

func (b *Bridge) renderConsent(w http.ResponseWriter, r *http.Request, op *operation, note string) {
	h := w.Header()
	pageHeaders(h, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	v := consentView{ArmMS: b.opts.ArmDelay.Milliseconds()}
	if op == nil {
		v.Status, v.Problem, v.Finished = "この確認は見つかりません（期限切れか終了済み） this request is unknown, finished or expired", true, true
		w.WriteHeader(http.StatusNotFound)
		_ = consentTmpl.Execute(w, v)
		return
	}
	v.ID, v.Origin, v.What, v.Items, v.Digest, v.Note = op.id, op.origin, op.purpose.What, op.purpose.Items, op.purpose.Digest, op.purpose.Note
	v.DigestAlg, v.Document = op.purpose.DigestAlg, op.document()
	v.RawDigest = op.purpose.Digest != "" && op.action == ActionSign && v.Document == ""
	v.App, _ = strings.CutPrefix(op.origin, "app:")
	if !isApp(op.origin) {
		v.App = ""
	}
	v.Self = op.origin == b.self
	if op.reader != nil {
		v.Reader = op.reader.name
	} else {
		v.Reader = "（すべてのリーダー all readers of this bridge）"
	}
	state, a, _, aerr, _ := op.view()
	switch {
	case state == stateConsent && a != nil && b.opts.Consent == nil:
		v.CSRF, v.YesNo, v.Pair = a.csrf, a.pair, op.action == ActionPair
		v.Shown = b.shownStamp(op.id, a.csrf)
		if !a.pair {
			v.Kind, v.Left, v.Retry = secretName(a.req.Kind), a.req.Remaining, a.req.Retry
			v.Label = secretLabel(a.req.Kind)
		}
		if note != "" {
			v.Status, v.Problem = note, true
		}
	case state == stateDone:
		v.Status, v.Finished = "完了しました。この画面は閉じてかまいません done: you may close this page", true
	case state.finished() && aerr != nil:
		v.Status, v.Problem, v.Finished = aerr.Message, true, true
	case state == stateConsent:
		v.Status, v.Waiting = "ブリッジの端末で入力してください answer at the bridge's terminal", true
	default:
		v.Status, v.Waiting = "カードリーダーの順番を待っています waiting for the card reader …", true
	}
	_ = consentTmpl.Execute(w, v)
}

func secretLabel(k myna.Secret) string {
	switch k {
	case myna.ShortPIN:
		return "暗証番号（数字4桁） PIN (4 digits)"
	case myna.SignPassword:
		return "署名用パスワード（英大文字と数字 6〜16文字） signing password (6-16 letters and digits)"
	case myna.CodeA:
		return "個人番号（12桁） My Number (12 digits)"
	case myna.CodeB, myna.BirthKey:
		return "券面の情報（照合番号B） the card-face data (照合番号B)"
	}
	return k.String()
}

// handleConsentSubmit takes the holder's answer. It is accepted only from
// the bridge's own page (its script sends the form with the counter's
// session token as a bearer token) with the form's one-time token; the secret goes to the waiting
// operation and nowhere else: it is not logged, stored or echoed, and its
// buffers are wiped.
func (b *Bridge) handleConsentSubmit(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if !c.session {
		// Only the person at the counter answers: the session token,
		// which the one-time URL's ticket gave the counter page, which
		// keeps it in its origin's sessionStorage: no other site's page,
		// no page on another port of this host and no local program has
		// it. Nothing of the body is read.
		h := w.Header()
		pageHeaders(h, "default-src 'none'; style-src 'self'; frame-ancestors 'self'; base-uri 'none'")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		w.WriteHeader(http.StatusForbidden)
		_ = consentTmpl.Execute(w, consentView{Status: "窓口画面の外からは答えられません。このパソコンで mynakit open を実行して窓口画面を開いてから、もう一度お試しください。 Answers are accepted only from the counter's browser: run mynakit open on this PC to open the counter page, then try again.", Problem: true, Finished: true})
		return
	}
	op := b.findOp(r.PathValue("id"))
	if op == nil {
		b.renderConsent(w, r, nil, "")
		return
	}
	body, aerr := readSecretBody(w, r, maxConsentBody)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	form, err := parseForm(body)
	pin.Wipe(body)
	if err != nil {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "フォームを読めません the form is not valid"))
		return
	}
	defer form.wipe()
	_, a, _, _, before := op.view()
	if a == nil || string(form.get("csrf")) != a.csrf {
		b.renderConsent(w, r, op, "この画面は古くなっています this page is out of date")
		return
	}
	var ans answer
	switch string(form.get("choice")) {
	case "deny":
		ans.deny = true
	case "allow":
		if !b.armed(op.id, a.csrf, string(form.get("shown"))) {
			b.renderConsent(w, r, op, "内容を確かめてから押してください（表示直後の操作は受け付けません） read the request first: a click right after the page appeared does not count")
			return
		}
		if !a.pair {
			secret, problem := form.secret(a.req.Kind)
			if problem != "" {
				b.renderConsent(w, r, op, problem)
				return
			}
			ans.secret = secret // the session takes it and wipes it
		}
	default:
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "フォームを読めません the form is not valid"))
		return
	}
	if !op.offer(a.csrf, ans) {
		pin.Wipe(ans.secret)
		b.renderConsent(w, r, op, "この画面は古くなっています this page is out of date")
		return
	}
	// Show what came of it: done, an error, or the next question.
	ctx, cancel := context.WithTimeout(r.Context(), respondTimeout)
	defer cancel()
	select {
	case <-before:
	case <-ctx.Done():
	}
	op.wait(ctx, func(s opState) bool { return s != stateRunning })
	w.Header().Set("Cache-Control", "no-store")
	b.renderConsent(w, r, op, "")
}

// readSecretBody reads a body that may hold a secret into one buffer of
// fixed size, so no copy is left behind by a growing buffer; the caller
// wipes it.
func readSecretBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	buf := make([]byte, limit+1)
	n, err := io.ReadFull(http.MaxBytesReader(w, r.Body, limit+1), buf)
	switch {
	case int64(n) > limit:
		pin.Wipe(buf)
		return nil, tooLarge(limit)
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		pin.Wipe(buf)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, newError(http.StatusBadRequest, "bad-request", "要求を読めません could not read the body")
	}
	return buf[:n], nil
}

// form is a parsed application/x-www-form-urlencoded body whose values are
// byte slices the bridge owns and wipes (a string could not be wiped).
type form map[string][]byte

var formFields = map[string]int{
	"csrf": 64, "choice": 8, "shown": 128, "pin": 16, "password": 32, "code_a": 32, "code_b": 32,
	"birth": 16, "expiry_year": 8, "security_code": 8,
}

var errForm = errors.New("not a valid form")

// parseForm reads name=value pairs (percent- and plus-encoded) of the
// consent form's known fields, each at most once and within its length.
func parseForm(body []byte) (form, error) {
	f := form{}
	for len(body) > 0 {
		var pair []byte
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
		} else {
			pair, body = body, nil
		}
		if len(pair) == 0 {
			continue
		}
		eq := bytes.IndexByte(pair, '=')
		if eq < 0 {
			f.wipe()
			return nil, errForm
		}
		name := string(pair[:eq])
		limit, known := formFields[name]
		if !known {
			f.wipe()
			return nil, errForm
		}
		if _, dup := f[name]; dup {
			f.wipe()
			return nil, errForm
		}
		v, err := unescape(pair[eq+1:], limit)
		if err != nil {
			f.wipe()
			return nil, err
		}
		f[name] = v
	}
	return f, nil
}

// unescape decodes a form value into a new slice of at most limit bytes.
func unescape(s []byte, limit int) ([]byte, error) {
	out := make([]byte, 0, min(len(s), limit))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(s) {
				pin.Wipe(out)
				return nil, errForm
			}
			h, l := unhex(s[i+1]), unhex(s[i+2])
			if h < 0 || l < 0 {
				pin.Wipe(out)
				return nil, errForm
			}
			c = byte(h<<4 | l)
			i += 2
		}
		if len(out) == limit {
			pin.Wipe(out)
			return nil, errForm
		}
		out = append(out, c)
	}
	return out, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func (f form) get(name string) []byte { return f[name] }

func (f form) wipe() {
	for k, v := range f {
		pin.Wipe(v)
		delete(f, k)
	}
}

// secret builds the secret of the kind asked from the form: the value
// typed, or for 照合番号B either its 14 digits or the three card-face
// values it is made of (birth date, the card's expiry year, the security
// code), joined the way pin.Normalize reads them. The result is a new
// slice; problem says what to fix.
func (f form) secret(kind myna.Secret) (secret []byte, problem string) {
	take := func(name string) []byte {
		v := bytes.TrimSpace(f.get(name))
		if len(v) == 0 {
			return nil
		}
		return append([]byte(nil), v...)
	}
	var s []byte
	switch kind {
	case myna.ShortPIN:
		s = take("pin")
	case myna.SignPassword:
		s = take("password")
	case myna.CodeA:
		s = take("code_a")
	case myna.CodeB, myna.BirthKey:
		if s = take("code_b"); s == nil {
			birth, year, code := bytes.TrimSpace(f.get("birth")), bytes.TrimSpace(f.get("expiry_year")), bytes.TrimSpace(f.get("security_code"))
			if len(birth) > 0 && len(year) > 0 && len(code) > 0 {
				s = make([]byte, 0, len(birth)+len(year)+len(code)+2)
				s = append(append(append(append(append(s, birth...), ' '), year...), ' '), code...)
			}
		}
	}
	if s == nil {
		return nil, "入力してください please fill in the field"
	}
	probe, err := pin.Normalize(kind, s)
	pin.Wipe(probe)
	if err != nil {
		pin.Wipe(s)
		var inv *pin.InvalidSecretError
		if errors.As(err, &inv) {
			return nil, "入力の形式が違います the value has the wrong form: " + inv.Reason
		}
		return nil, "入力の形式が違います the value has the wrong form"
	}
	return s, ""
}

// shownStamp records when a question's page was served: the time and a
// MAC over it, the operation and the question, so that a submitted form
// proves how long its page had been up.
func (b *Bridge) shownStamp(id, csrf string) string {
	// Real time, not Options.Now: the delay is the holder's, not the
	// clock's the verdicts are judged at.
	ms := strconv.FormatInt(time.Now().UnixMilli(), 10)
	return ms + "." + base64.RawURLEncoding.EncodeToString(mac(b.secret, "shown:"+id+":"+csrf+":"+ms))
}

// armed says whether a form's page was served at least ArmDelay ago (and
// the stamp is the bridge's own).
func (b *Bridge) armed(id, csrf, stamp string) bool {
	ms, sum, ok := strings.Cut(stamp, ".")
	if !ok {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sum)
	if err != nil || !hmac.Equal(got, mac(b.secret, "shown:"+id+":"+csrf+":"+ms)) {
		return false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return false
	}
	return time.Since(time.UnixMilli(n)) >= b.opts.ArmDelay
}

// --- pairing ---

// PairRequest is the optional body of POST /v1/pair.
type PairRequest struct {
	// Clinic asks for the clinic mode's face results too (names, birth
	// dates, addresses and insurance numbers of the patients).
	Clinic bool `json:"clinic,omitempty"`
}

// handlePair starts a pairing: the person at the counter approves the
// origin on the consent page, and the origin then fetches its token once
// from GET /v1/operations/{id}. A local application, which has its token
// already, pairs only to receive the clinic mode's face results.
func (b *Bridge) handlePair(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	var q PairRequest
	if aerr := decodeBody(w, r, maxJSONBody, &q); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	app := isApp(c.principal)
	if app && !q.Clinic {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "ローカルアプリケーションはトークンを持っています。登録は clinic のためだけです a local application has its token already; it pairs only for the clinic mode (clinic: true)"))
		return
	}
	if q.Clinic && b.clinic == nil {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "資格確認モードではありません the clinic mode is off (--oqs-root)"))
		return
	}
	p := purpose{What: "このブリッジ（カードリーダー）の利用を許可しますか allow this site to use the card reader through the bridge?",
		Items: []string{"許可すると、操作のたびにこの画面で確認します after this, each use of the card is still confirmed here"}}
	if app {
		p = purpose{What: "資格確認の結果を受け取ることを許可しますか allow this application to receive the eligibility results?", Items: nil}
	}
	// The page names the data as the access log does (DataEligibility).
	var data []Data
	if q.Clinic {
		data = append(data, DataEligibility)
	}
	p.Items = append(p.Items, describeData(data)...)
	op := newOperation(b.ctx, c.principal, ActionPair, nil, 0, data, p, b.now())
	op.run = func(ctx context.Context, op *operation) (*result, error) {
		err := b.logged(accesslog.Entry{Origin: op.origin, Action: string(op.action), Data: dataNames(op.data)}, func(e *accesslog.Entry) error {
			ok, err := b.askYesNo(ctx, op)
			e.Outcome = "ok"
			switch {
			case err != nil:
				e.Outcome = b.outcome(op, nil, err)
			case !ok:
				e.Outcome, err = "denied", errDenied
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		res := &result{}
		if !app {
			// A new token revokes the old one, and ends its streams.
			b.endStreams(op.origin)
			res.pairToken = b.tokens.mint(op.origin)
		}
		b.mu.Lock()
		if q.Clinic {
			b.clinicOK[op.origin] = true
		} else {
			delete(b.clinicOK, op.origin)
		}
		b.mu.Unlock()
		res.json, _ = json.Marshal(map[string]any{"origin": op.origin, "paired": true, "clinic": q.Clinic})
		return res, nil
	}
	if !b.start(op) {
		writeError(w, r, cancelledError(errClosed))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	op.wait(ctx, func(s opState) bool { return s == stateConsent || s.finished() })
	b.accepted(w, r, op)
}

// handleUnpair revokes the caller's token (a local application's until the
// bridge restarts) and its clinic grant, and ends its open streams.
func (b *Bridge) handleUnpair(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if c.session {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "窓口画面は登録していません the counter page is not paired"))
		return
	}
	b.revoke(c.principal)
	write(w, r, http.StatusOK, map[string]any{"origin": c.principal, "paired": false})
}

// revoke forgets a principal's token and grants, and ends its streams.
func (b *Bridge) revoke(principal string) {
	b.tokens.revoke(principal)
	b.mu.Lock()
	delete(b.clinicOK, principal)
	b.mu.Unlock()
	b.endStreams(principal)
}

// endStreams closes every event stream of principal.
func (b *Bridge) endStreams(principal string) {
	b.events.drop(principal)
	if b.clinic != nil {
		b.clinic.faces.drop(principal)
	}
}

// askYesNo asks the holder to allow or decline op (a pairing, or a read of
// what identifies the card or the person), without a secret.
func (b *Bridge) askYesNo(ctx context.Context, op *operation) (bool, error) {
	a := &ask{pair: true, csrf: randomID(), answer: make(chan answer, 1)}
	withdraw, err := b.pose(op, a)
	if err != nil {
		return false, err
	}
	defer withdraw()
	if b.opts.Consent != nil {
		var ok bool
		err := b.askConsenter(ctx, func(tctx context.Context) (err error) {
			ok, err = b.opts.Consent.Pair(tctx, b.consentRequest(op, pin.Request{}))
			return err
		})
		return ok, err
	}
	ans, err := b.awaitAnswer(ctx, a)
	return err == nil && !ans.deny, err
}

// handleConsents lists the questions open for the holder, for the counter
// page, which may cancel them.
func (b *Bridge) handleConsents(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	var open []*operation
	for _, op := range b.ops {
		if s, a, _, _, _ := op.view(); s == stateConsent && a != nil {
			open = append(open, op)
		}
	}
	b.mu.Unlock()
	list := make([]map[string]any, 0, len(open))
	for _, op := range open {
		list = append(list, b.consentJSON(op))
	}
	write(w, r, http.StatusOK, map[string]any{"consents": list})
}

// consentJSON is an open question as the counter page lists it.
func (b *Bridge) consentJSON(op *operation) map[string]any {
	v := map[string]any{"id": op.id, "origin": op.origin, "action": op.action, "what": op.purpose.What, "consent_url": b.self + "/consent/" + op.id}
	if op.reader != nil {
		v["reader"] = op.reader.name
	}
	s, a, _, _, _ := op.view()
	v["open"] = s == stateConsent && a != nil
	return v
}
