package bridge

import (
	"html/template"
	"net/http"
	"path"
)

var counterTmpl = template.Must(template.ParseFS(webFS, "web/index.html"))

// selfToken is the token of the bridge's own pages, minted once.
func (b *Bridge) selfToken() string {
	b.tokenOnce.Do(func() { b.ownToken = b.tokens.mint(b.self) })
	return b.ownToken
}

// handleCounter serves the counter page with its token. Another origin
// cannot read the page (no CORS), frame it, or reach it under another
// Host name, so the token stays with the bridge's own pages.
func (b *Bridge) handleCounter(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	_ = counterTmpl.Execute(w, map[string]any{"Token": b.selfToken(), "Clinic": b.clinic != nil})
}

// staticTypes are the embedded files served under /static/.
var staticTypes = map[string]string{
	"counter.js":  "text/javascript; charset=utf-8",
	"counter.css": "text/css; charset=utf-8",
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
