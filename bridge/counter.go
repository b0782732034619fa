package bridge

import (
	"html/template"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mynakit/mynakit/accesslog"
)

var counterTmpl = template.Must(template.ParseFS(webFS, "web/index.html"))

// pageHeaders are a page's headers: its own policy, and no other window
// may hold a reference to it (COOP), so a page of another site cannot
// script the window or time clicks in it.
func pageHeaders(h http.Header, csp string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

const counterCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// handleCounter serves the counter page. The page carries no token and
// nothing of a card: its script takes the one-time URL's ticket from the
// URL's fragment (#ticket=…, which no request carries), exchanges it once
// for the counter's session token (POST /v1/session), keeps that in its
// origin's sessionStorage and sends it as a bearer token. Without a
// session, the page says how to open it.
func (b *Bridge) handleCounter(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w.Header(), counterCSP)
	_ = counterTmpl.Execute(w, map[string]any{"Clinic": b.clinic != nil})
}

// SessionRequest is the body of POST /v1/session.
type SessionRequest struct {
	// Ticket is the one-time URL's ticket, from its fragment.
	Ticket string `json:"ticket"`
}

// handleSession exchanges a one-time URL's ticket (mynakit open, or the
// URL serve prints), once, for the counter's session token. Only the
// bridge's own page asks; the token is answered in the body, never in a
// cookie (a browser sends a host's cookies to every port of it).
func (b *Bridge) handleSession(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if c.origin != b.self || c.crossSite || c.socket || c.paired {
		writeError(w, r, newError(http.StatusForbidden, "forbidden-origin", "窓口画面だけが使えます only the bridge's own counter page opens a session"))
		return
	}
	var q SessionRequest
	if aerr := decodeBody(w, r, maxJSONBody, &q); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	nonce, exp, ok := checkTicket(b.secret, q.Ticket, b.now())
	var id string
	if ok {
		id, ok = b.sessions.redeem(nonce, exp)
	}
	if !ok {
		writeError(w, r, newError(http.StatusForbidden, "ticket-used", "このURLは使用済みか期限切れです。mynakit open で開き直してください the one-time URL was used already or has expired: run mynakit open again"))
		return
	}
	write(w, r, http.StatusOK, map[string]any{"session": id, "expires_in": int(sessionTTL.Seconds())})
}

// staticTypes are the embedded files served under /static/.
var staticTypes = map[string]string{
	"counter.js":  "text/javascript; charset=utf-8",
	"consent.js":  "text/javascript; charset=utf-8",
	"counter.css": "text/css; charset=utf-8",
	"webeid.js":   "text/javascript; charset=utf-8",
}

func (b *Bridge) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ct, ok := staticTypes[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	data, err := webFS.ReadFile(path.Join("web", name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// RevealRequest is the body of POST /v1/reveal: the clerk shows the
// card's full My Number on the counter page, for a stated purpose.
type RevealRequest struct {
	// Reader is the reader whose card is shown.
	Reader string `json:"reader"`
	// Purpose is why the number is shown (required, at most 200
	// characters, no run of digits as long as a My Number).
	Purpose string `json:"purpose"`
}

// handleReveal records, before the page shows it, that the counter shows
// a My Number in full and why. The number itself is already in the page
// (the read's result) and is never sent here, nor logged: the entry names
// the action, the reader, the card's hash and the purpose.
func (b *Bridge) handleReveal(w http.ResponseWriter, r *http.Request) {
	var q RevealRequest
	if aerr := decodeBody(w, r, maxJSONBody, &q); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	purpose := strings.TrimSpace(strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return ' '
		}
		return c
	}, q.Purpose))
	if purpose == "" || utf8.RuneCountInString(purpose) > 200 || longDigitRun(purpose) {
		writeError(w, r, newError(http.StatusBadRequest, "purpose-required", "表示する目的を200文字以内で入力してください（番号そのものは書かないでください） state the purpose in at most 200 characters (not the number itself)"))
		return
	}
	if len(q.Reader) > 256 {
		writeError(w, r, newError(http.StatusBadRequest, "bad-reader", "リーダー名が長すぎます the reader name is too long"))
		return
	}
	card := ""
	b.mu.Lock()
	if rd := b.findLocked(q.Reader); rd != nil && rd.present && rd.cardIDGen == rd.gen {
		card = rd.cardID
	}
	b.mu.Unlock()
	err := b.logged(accesslog.Entry{Origin: b.self, Reader: q.Reader, Action: string(ActionRevealMyNumber), Data: []string{string(DataMyNumber)}, Card: card, Note: purpose}, func(e *accesslog.Entry) error {
		e.Outcome = "ok"
		return nil
	})
	if err != nil {
		writeError(w, r, newError(http.StatusServiceUnavailable, "log-failed", "アクセスログに記録できないため表示しません not shown: the access log could not be written"))
		return
	}
	write(w, r, http.StatusOK, map[string]any{"logged": true})
}

// longDigitRun reports a run of 12 or more digits (a My Number typed as
// the purpose would otherwise reach the log).
func longDigitRun(s string) bool {
	n := 0
	for _, c := range s {
		if unicode.IsDigit(c) {
			n++
			if n >= 12 {
				return true
			}
		} else if c != ' ' && c != '-' {
			n = 0
		}
	}
	return false
}
