package bridge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit/internal/loopback"
)

// caller is who a request comes from, as far as the bridge can tell.
type caller struct {
	// origin is the web origin of the calling page; the bridge's own
	// pages carry the bridge's origin; "" is no browser (no Origin and no
	// Sec-Fetch-Site), which proves nothing by itself.
	origin string
	// principal is who the bridge serves: a web origin (with its token), a
	// local application ("app:" + its name, with its derived token) or the
	// counter (the bridge's origin, with the session token). Operations
	// and streams belong to a principal.
	principal string
	// crossSite: a browser request from another site that carries no
	// Origin (an <img> or a link): it may reach nothing but public routes.
	crossSite bool
	// paired: the request carries the principal's token or session.
	paired bool
	// session: the counter's session token, which only the one-time
	// URL's ticket gives (see handleSession): the person at the counter.
	session bool
	// socket: the request came over the Unix domain socket from a process
	// of this OS user.
	socket bool
}

type callerKey struct{}

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// canonicalOrigin checks an origin (scheme://host[:port], nothing else)
// and writes it the way browsers send it.
func canonicalOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("want scheme://host[:port]")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return u.Scheme + "://" + host, nil
}

// checkRequest applies the rules every request meets:
//   - from a loopback peer, with the bridge's own Host (a page that
//     rebinds a DNS name to 127.0.0.1 has another Host), or over the Unix
//     domain socket from a process of this OS user;
//   - an Origin, when present, is the bridge's own or an allowed one;
//   - a state-changing request from a browser carries one;
//   - a token, when present, is checked here and names the principal; the
//     counter's session token counts only from the bridge's own pages.
//     No cookie is ever read: a browser sends a host's cookies to every
//     port of it, so a program on another loopback port would get them.
//
// It sets the CORS headers for an allowed origin on the /v1 API (never on
// the pages) and puts the caller into the request's context.
func (b *Bridge) checkRequest(w http.ResponseWriter, r *http.Request) *apiError {
	_, socket := r.Context().Value(socketKey{}).(socketPeer)
	if !socket {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && !loopback.Host(host) {
			return newError(http.StatusForbidden, "forbidden-peer", "ループバック以外からは使えません only loopback peers are served")
		}
		if !b.hosts[strings.ToLower(r.Host)] {
			return newError(http.StatusForbidden, "forbidden-host", "Host が違います the Host header is not the bridge's own (DNS rebinding?)")
		}
	}
	c := caller{socket: socket}
	origin := r.Header.Get("Origin")
	site := r.Header.Get("Sec-Fetch-Site")
	if socket && (origin != "" || site != "") {
		// No browser reaches a Unix domain socket.
		return newError(http.StatusForbidden, "forbidden-origin", "ソケットではオリジンを受け付けません no Origin over the socket")
	}
	api := strings.HasPrefix(r.URL.Path, "/v1/")
	switch {
	case origin == "null" && site == "same-origin":
		// A page of the bridge's own whose referrer policy hides its
		// origin; Sec-Fetch-Site, which no page can set, says it is ours.
		c.origin = b.self
	case origin != "":
		o, err := origin, error(nil)
		if !b.allowed[o] && !b.selfAlt[o] {
			// Not written the way browsers send it: look closer.
			o, err = canonicalOrigin(origin)
		}
		switch {
		case err != nil:
			return newError(http.StatusForbidden, "forbidden-origin", "このオリジンは許可されていません the origin is not allowed")
		case b.selfAlt[o]:
			c.origin = b.self
		case b.allowed[o]:
			c.origin = o
			if !api {
				// The pages are never readable, or reachable by a
				// preflighted request, from another origin.
				break
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Document-Name")
			h.Set("Access-Control-Max-Age", "600")
			h.Set("Access-Control-Expose-Headers", "Retry-After, Location")
			if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
				h.Set("Access-Control-Allow-Private-Network", "true")
			}
		default:
			return newError(http.StatusForbidden, "forbidden-origin", "このオリジンは許可されていません the origin is not allowed (--allow-origin)")
		}
	case site == "same-origin":
		// Browsers leave Origin out of same-origin GETs but always say
		// where a request comes from in Sec-Fetch-Site.
		c.origin = b.self
	case site == "same-site" || site == "cross-site":
		c.crossSite = true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions && c.crossSite {
		return newError(http.StatusForbidden, "forbidden-origin", "オリジンのない要求は受け付けません a cross-site request without an Origin is refused")
	}
	if r.Method == http.MethodOptions && (origin == "" || !api) {
		return newError(http.StatusForbidden, "forbidden-origin", "オリジンのない事前要求です a preflight without an Origin, or not to the API")
	}
	c.principal = c.origin
	if tok, ok := bearer(r); ok {
		if name, isApp := checkAppToken(b.secret, tok); isApp || strings.HasPrefix(tok, "app.") {
			// A local application's token: never from a browser.
			if !isApp || c.origin != "" || c.crossSite || site != "" || b.tokens.appRevoked(name) {
				return newError(http.StatusUnauthorized, "unauthorized", "トークンが違います the token is not valid (a local application's token is derived from this launch's secret)")
			}
			c.principal, c.paired = appPrincipal(name), true
		} else if b.sessions.valid(tok) {
			// The counter's session token, which the counter page's
			// script got for the one-time URL's ticket (POST
			// /v1/session) and keeps in its origin's sessionStorage:
			// only the bridge's own pages send it, and no page of
			// another port can read it (a cookie would go to any port of
			// the host).
			if c.origin != b.self || c.crossSite || socket {
				return newError(http.StatusUnauthorized, "unauthorized", "窓口のセッションは窓口画面からだけ使えます the counter's session is for the bridge's own pages")
			}
			c.session, c.paired = true, true
			c.principal = b.self
		} else {
			o, found := b.tokens.origin(tok)
			if !found || o != c.origin || c.origin == "" || c.origin == b.self || c.crossSite {
				return newError(http.StatusUnauthorized, "unauthorized", "トークンが違います the token is not this origin's (pair again)")
			}
			c.paired = true
		}
	}
	*r = *r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
	return nil
}

// appPrincipal is a local application's principal.
func appPrincipal(name string) string { return "app:" + name }

// isApp says whether a principal is a local application.
func isApp(principal string) bool { return strings.HasPrefix(principal, "app:") }

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", true // present but not a bearer token: never matches
	}
	return strings.TrimSpace(h[len(p):]), true
}

// secureHeaders are set on every answer: nothing is cached, sniffed,
// framed by another site, or embedded by another site's page.
func secureHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
}

// tokens are the per-origin API tokens, held in memory only (a restarted
// bridge pairs again). They are stored by hash, so a lookup compares
// digests, not the secret itself. Local applications' tokens are derived
// from the launch secret; a revoked one is remembered here until the
// bridge restarts (a new launch secret).
type tokens struct {
	mu         sync.Mutex
	byHash     map[[32]byte]string
	byOrigin   map[string][32]byte
	revokedApp map[string]bool
}

func newTokens() *tokens {
	return &tokens{byHash: map[[32]byte]string{}, byOrigin: map[string][32]byte{}, revokedApp: map[string]bool{}}
}

// mint makes a new token for origin, replacing (revoking) its previous
// one.
func (t *tokens) mint(origin string) string {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic(err)
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	h := sha256.Sum256([]byte(tok))
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byOrigin[origin]; ok {
		delete(t.byHash, old)
	}
	t.byHash[h] = origin
	t.byOrigin[origin] = h
	return tok
}

// revoke forgets a principal's token.
func (t *tokens) revoke(principal string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if name, ok := strings.CutPrefix(principal, "app:"); ok {
		t.revokedApp[name] = true
		return
	}
	if old, ok := t.byOrigin[principal]; ok {
		delete(t.byHash, old)
		delete(t.byOrigin, principal)
	}
}

func (t *tokens) appRevoked(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.revokedApp[name]
}

func (t *tokens) origin(tok string) (string, bool) {
	h := sha256.Sum256([]byte(tok))
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.byHash[h]
	return o, ok
}

// sessions are the counter's session tokens, by hash, each with its
// expiry; and the one-time URLs' tickets already used.
type sessions struct {
	mu      sync.Mutex
	now     func() time.Time
	byHash  map[[32]byte]time.Time
	tickets map[string]time.Time // nonce → expiry
}

// sessionTTL is how long a counter session lasts.
const sessionTTL = 12 * time.Hour

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, byHash: map[[32]byte]time.Time{}, tickets: map[string]time.Time{}}
}

// redeem spends a ticket's nonce, once, and makes a session.
func (s *sessions) redeem(nonce string, exp time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for n, e := range s.tickets {
		if !now.Before(e) {
			delete(s.tickets, n)
		}
	}
	for h, e := range s.byHash {
		if !now.Before(e) {
			delete(s.byHash, h)
		}
	}
	if _, used := s.tickets[nonce]; used || len(s.tickets) > 4096 || len(s.byHash) > 1024 {
		return "", false
	}
	s.tickets[nonce] = exp
	id := randomID() + randomID()
	s.byHash[sha256.Sum256([]byte(id))] = now.Add(sessionTTL)
	return id, true
}

func (s *sessions) valid(id string) bool {
	if id == "" {
		return false
	}
	h := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byHash[h]
	return ok && s.now().Before(e)
}

// randomID is an unguessable identifier (operation ids, CSRF tokens).
func randomID() string {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:])
}
