// Package rp is the example relying party's web application: a login page
// that has the card sign the server's challenge through the mynakit bridge
// (with the Web eID JavaScript client the bridge ships), and a server that
// validates the token with webeid.Validator. It is deliberately small; a
// portal keeps its sessions and nonces in its own store.
package rp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/trust"
	"github.com/mynakit/mynakit/webeid"
)

// Config configures the relying party.
type Config struct {
	// Origin is this site's own origin as the browser sees it
	// (https://portal.example.jp; http only on loopback).
	Origin string
	// Bridge is the URL of the mynakit bridge the page talks to.
	Bridge string
	// Trust holds the J-LIS anchors (trust.Embedded()).
	Trust *trust.Store
	// AllowTestAnchors accepts the simulator's and JPKI-TEST's anchors:
	// development only.
	AllowTestAnchors bool
	// Nonces: nil is an in-memory store with the default lifetime.
	Nonces webeid.NonceStore
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Server is the relying party.
type Server struct {
	cfg Config
	v   *webeid.Validator
	mux *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	nonce    string
	identity *Identity
	created  time.Time
}

// Identity is what the page shows after a login.
type Identity struct {
	Subject      string `json:"subject"`
	SerialNumber string `json:"serial_number"`
	Issuer       string `json:"issuer"`
	NotAfter     string `json:"not_after"`
	Anchor       string `json:"anchor"`
	Production   bool   `json:"production"`
	Revocation   string `json:"revocation"`
	Origin       string `json:"origin"`
}

const cookieName = "rp-session"

// maxSessions bounds the in-memory sessions of this example.
const maxSessions = 10000

// New makes the relying party.
func New(cfg Config) (*Server, error) {
	origin, err := webeid.CanonicalOrigin(cfg.Origin)
	if err != nil {
		return nil, err
	}
	if cfg.Trust == nil {
		return nil, errors.New("rp: Config.Trust is required")
	}
	cfg.Origin = origin
	s := &Server{cfg: cfg, sessions: map[string]*session{}, mux: http.NewServeMux()}
	s.v = &webeid.Validator{Origin: origin, Trust: cfg.Trust, Nonces: cfg.Nonces, AllowTestAnchors: cfg.AllowTestAnchors, Now: cfg.Now}
	s.mux.HandleFunc("GET /{$}", s.page)
	s.mux.HandleFunc("GET /webeid.js", s.client)
	s.mux.HandleFunc("GET /login.js", s.script)
	s.mux.HandleFunc("GET /challenge", s.challenge)
	s.mux.HandleFunc("POST /login", s.login)
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; connect-src 'self' "+s.cfg.Bridge+"; frame-ancestors 'none'")
	s.mux.ServeHTTP(w, r)
}

func randomID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// sessionOf returns the request's session, making one (and its cookie)
// when make is set.
func (s *Server) sessionOf(w http.ResponseWriter, r *http.Request, create bool) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, err := r.Cookie(cookieName); err == nil {
		if ss := s.sessions[c.Value]; ss != nil {
			return ss
		}
	}
	if !create {
		return nil
	}
	if len(s.sessions) >= maxSessions {
		cut := s.now().Add(-time.Hour)
		for id, ss := range s.sessions {
			if ss.created.Before(cut) {
				delete(s.sessions, id)
			}
		}
		if len(s.sessions) >= maxSessions {
			return nil
		}
	}
	id := randomID()
	ss := &session{created: s.now()}
	s.sessions[id] = ss
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return ss
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// challenge issues a nonce bound to the caller's session.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request) {
	ss := s.sessionOf(w, r, true)
	if ss == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "too many sessions"})
		return
	}
	nonce, err := s.v.IssueNonce(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "no nonce"})
		return
	}
	s.mu.Lock()
	ss.nonce, ss.identity = nonce, nil
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"nonce": nonce})
}

// login validates the token against the session's nonce.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ss := s.sessionOf(w, r, false)
	if ss == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "no session: get a challenge first"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "too large"})
		return
	}
	s.mu.Lock()
	nonce := ss.nonce
	ss.nonce = "" // one try per challenge
	s.mu.Unlock()
	id, err := s.Validate(r.Context(), body, nonce)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
		return
	}
	s.mu.Lock()
	ss.identity = id
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, id)
}

// Validate checks a token (JSON) against nonce: the relying party's steps.
func (s *Server) Validate(ctx context.Context, tokenJSON []byte, nonce string) (*Identity, error) {
	tok, err := webeid.ParseToken(tokenJSON)
	if err != nil {
		return nil, err
	}
	id, err := s.v.Validate(ctx, tok, nonce)
	if err != nil {
		return nil, err
	}
	return &Identity{Subject: id.Subject, SerialNumber: id.SerialNumber.String(), Issuer: id.Issuer, NotAfter: id.NotAfter.UTC().Format(time.RFC3339),
		Anchor: id.Anchor, Production: id.Production, Revocation: string(id.Revocation), Origin: id.Origin}, nil
}

func (s *Server) client(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = w.Write(bridge.WebEIDClient())
}

func (s *Server) script(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = io.WriteString(w, loginJS)
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTmpl.Execute(w, map[string]any{"Bridge": s.cfg.Bridge, "Test": s.cfg.AllowTestAnchors})
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="ja">
<head><meta charset="utf-8"><title>マイナンバーカードでログイン — mynakit example</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="/webeid.js"></script>
<script src="/login.js" defer></script>
</head>
<body data-bridge="{{.Bridge}}">
<h1>マイナンバーカードでログイン <span lang="en">Log in with the My Number Card</span></h1>
{{if .Test}}<p id="test-anchors"><strong>試験用</strong>: テスト用の認証局を受け入れています <span lang="en">test anchors are accepted: development only</span></p>{{end}}
<p id="lna-hint" hidden></p>
<button type="button" id="login">ログイン <span lang="en">Log in</span></button>
<p id="progress" role="status"></p>
<p id="consent" hidden>カードの持ち主の確認画面を開いてください <span lang="en">open the confirmation page</span>: <a id="consent-link" target="_blank" rel="noopener">確認画面 <span lang="en">confirmation page</span></a></p>
<p id="error" role="alert" hidden></p>
<section id="identity" hidden>
<h2>ログインしました <span lang="en">logged in</span></h2>
<dl>
<dt>証明書のシリアル番号 <span lang="en">certificate serial number</span></dt><dd id="serial"></dd>
<dt>主体者 <span lang="en">subject</span></dt><dd id="subject"></dd>
<dt>発行者 <span lang="en">issuer</span></dt><dd id="issuer"></dd>
<dt>トラストアンカー <span lang="en">anchor</span></dt><dd id="anchor"></dd>
<dt>失効確認 <span lang="en">revocation</span></dt><dd id="revocation"></dd>
</dl>
</section>
</body>
</html>
`))

// loginJS is the page's script: challenge → bridge → login.
const loginJS = `(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const bridgeURL = document.body.dataset.bridge;
  const lang = (new URLSearchParams(location.search).get('lang') || navigator.language || 'ja').toLowerCase().startsWith('ja') ? 'ja' : 'en';
  const client = MynakitWebEid.create({
    bridge: bridgeURL,
    onConsent(url) {
      const a = $('consent-link');
      a.href = url;
      $('consent').hidden = false;
    },
  });
  async function hint() {
    const state = await client.localNetworkAccess();
    document.body.dataset.lna = state;
    if (state === 'prompt') {
      $('lna-hint').textContent = lang === 'ja'
        ? 'ログインの際、ブラウザが「ローカル ネットワーク上のデバイスへのアクセス」の許可を求めます。「許可」を選んでください。'
        : 'When you log in, the browser asks to allow access to devices on your local network: choose Allow.';
      $('lna-hint').hidden = false;
    }
  }
  async function login() {
    $('error').hidden = true;
    $('identity').hidden = true;
    $('progress').textContent = lang === 'ja' ? 'カードで署名しています…' : 'Signing with the card…';
    try {
      const c = await fetch('/challenge', {credentials: 'same-origin'});
      const {nonce} = await c.json();
      const token = await client.authenticate(nonce, {lang});
      const r = await fetch('/login', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(token)});
      const v = await r.json();
      if (!r.ok) throw Object.assign(new Error(v.error || 'login failed'), {code: 'LOGIN_REJECTED'});
      $('serial').textContent = v.serial_number;
      $('subject').textContent = v.subject;
      $('issuer').textContent = v.issuer;
      $('anchor').textContent = v.anchor + (v.production ? '' : ' (test)');
      $('revocation').textContent = v.revocation;
      $('identity').hidden = false;
      $('progress').textContent = '';
    } catch (e) {
      $('progress').textContent = '';
      $('error').dataset.code = e.code || 'ERROR';
      $('error').textContent = e.message;
      $('error').hidden = false;
    } finally {
      $('consent').hidden = true;
    }
  }
  $('login').addEventListener('click', login);
  hint();
})();
`
