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
)

// caller is who a request comes from, as far as the bridge can tell.
type caller struct {
	// origin is the web origin of the calling page; the bridge's own
	// pages carry the bridge's origin; "" is a local application (no
	// browser: no Origin and no Sec-Fetch-Site).
	origin string
	// crossSite: a browser request from another site that carries no
	// Origin (an <img> or a link): it may reach nothing but public routes.
	crossSite bool
	// paired: the request carries the token of its origin.
	paired bool
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
//     rebinds a DNS name to 127.0.0.1 has another Host);
//   - an Origin, when present, is the bridge's own or an allowed one;
//   - a state-changing request from a browser carries one;
//   - a token, when present, is checked here and marks the request paired.
//
// It sets the CORS headers for an allowed origin and puts the caller into
// the request's context.
func (b *Bridge) checkRequest(w http.ResponseWriter, r *http.Request) *apiError {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return newError(http.StatusForbidden, "forbidden-peer", "ループバック以外からは使えません only loopback peers are served")
		}
	}
	if !b.hosts[strings.ToLower(r.Host)] {
		return newError(http.StatusForbidden, "forbidden-host", "Host が違います the Host header is not the bridge's own (DNS rebinding?)")
	}
	c := caller{}
	origin := r.Header.Get("Origin")
	site := r.Header.Get("Sec-Fetch-Site")
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
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
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
	if r.Method == http.MethodOptions && origin == "" {
		return newError(http.StatusForbidden, "forbidden-origin", "オリジンのない事前要求です a preflight without an Origin")
	}
	if tok, ok := bearer(r); ok {
		o, found := b.tokens.origin(tok)
		if !found || o != c.origin || c.crossSite {
			return newError(http.StatusUnauthorized, "unauthorized", "トークンが違います the token is not this origin's (pair again)")
		}
		c.paired = true
	}
	*r = *r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
	return nil
}

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
// digests, not the secret itself.
type tokens struct {
	mu       sync.Mutex
	byHash   map[[32]byte]string
	byOrigin map[string][32]byte
}

func newTokens() *tokens {
	return &tokens{byHash: map[[32]byte]string{}, byOrigin: map[string][32]byte{}}
}

// mint makes a new token for origin, replacing its previous one.
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

func (t *tokens) origin(tok string) (string, bool) {
	h := sha256.Sum256([]byte(tok))
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.byHash[h]
	return o, ok
}

// randomID is an unguessable identifier (operation ids, CSRF tokens).
func randomID() string {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:])
}
