package bridge

import (
	"html/template"
	"net/http"
	"path"
)

var (
	counterTmpl = template.Must(template.ParseFS(webFS, "web/index.html"))
	closedTmpl  = template.Must(template.ParseFS(webFS, "web/closed.html"))
)

// pageHeaders are a page's headers: its own policy, and no other window
// may hold a reference to it (COOP), so a page of another site cannot
// script the window or time clicks in it.
func pageHeaders(h http.Header, csp string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

const counterCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// handleCounter serves the counter page to the counter's session only (see
// handleOpen). The page carries no token: its requests carry the session
// cookie, HttpOnly and SameSite=Strict, which no script and no other site
// can read or send. Without the session, the page says how to open it.
func (b *Bridge) handleCounter(w http.ResponseWriter, r *http.Request) {
	if !callerOf(r).session {
		pageHeaders(w.Header(), "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		w.WriteHeader(http.StatusUnauthorized)
		_ = closedTmpl.Execute(w, nil)
		return
	}
	pageHeaders(w.Header(), counterCSP)
	_ = counterTmpl.Execute(w, map[string]any{"Clinic": b.clinic != nil})
}

// handleOpen exchanges a one-time URL (mynakit open, or the one serve
// prints) for the counter's session cookie, then shows the counter page
// under a clean URL.
func (b *Bridge) handleOpen(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, "t")
	ok := err == nil
	if ok {
		nonce, exp, valid := checkTicket(b.secret, q["t"], b.now())
		ok = valid
		if ok {
			var id string
			if id, ok = b.sessions.redeem(nonce, exp); ok {
				http.SetCookie(w, &http.Cookie{Name: b.cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
			}
		}
	}
	if !ok {
		pageHeaders(w.Header(), "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		w.WriteHeader(http.StatusForbidden)
		_ = closedTmpl.Execute(w, map[string]any{"Used": true})
		return
	}
	// A page that redirects here cannot learn the cookie, and the ticket
	// is spent: it does not stay in the address bar or the history.
	w.Header().Set("Location", "/")
	w.WriteHeader(http.StatusSeeOther)
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
