package bridge

import (
	_ "embed"
	"net/http"
)

// access says who may use a route.
type access int

const (
	// public: anyone who passes the Host and Origin checks (the reader
	// list, the OpenAPI document, the pages).
	public access = iota
	// paired: a request carrying its principal's token, or the counter's
	// session token.
	paired
	// session: the counter's session only (the person at the counter: the
	// consent form's answer, the list of open consents).
	session
	// pairable: an allowed web origin asking to pair, or a local
	// application (with its token) asking for the clinic mode.
	pairable
)

type route struct {
	method, pattern string
	access          access
	handler         http.HandlerFunc
}

func (b *Bridge) buildRoutes() {
	b.routes = []route{
		{"GET", "/v1/readers", public, b.handleReaders},
		{"GET", "/v1/events", paired, b.handleEvents},
		{"GET", "/v1/readers/{reader}/card", paired, b.handleCard},
		{"POST", "/v1/readers/{reader}/read", paired, b.handleRead},
		{"GET", "/v1/readers/{reader}/certificates/{kind}", paired, b.handleCertificate},
		{"POST", "/v1/readers/{reader}/authenticate", paired, b.handleAuthenticate},
		{"POST", "/v1/readers/{reader}/sign", paired, b.handleSign},
		{"GET", "/v1/readers/{reader}/photo", paired, b.handlePhoto},
		{"GET", "/v1/readers/{reader}/qr", paired, b.handleQR},
		{"POST", "/v1/pair", pairable, b.handlePair},
		{"DELETE", "/v1/pair", paired, b.handleUnpair},
		{"GET", "/v1/consents", session, b.handleConsents},
		{"POST", "/v1/reveal", session, b.handleReveal},
		{"GET", "/v1/operations/{id}", public, b.handleOperation}, // ownOp checks
		{"DELETE", "/v1/operations/{id}", public, b.handleCancel}, // ownOp checks
		{"GET", "/v1/operations/{id}/result", paired, b.handleResult},
		{"GET", "/v1/operations/{id}/photo", paired, b.handleOpPhoto},
		{"GET", "/v1/operations/{id}/face/{part}", paired, b.handleOpFace},
		{"GET", "/v1/openapi.json", public, b.handleOpenAPI},
		{"POST", "/v1/session", public, b.handleSession}, // the one-time ticket, checked there
		{"GET", "/{$}", public, b.handleCounter},         // no token, no data: its script opens the session
		{"GET", "/static/{file}", public, b.handleStatic},
		{"GET", "/consent/{id}", public, b.handleConsentPage},
		{"POST", "/consent/{id}", public, b.handleConsentSubmit}, // the session, checked there
	}
	if b.clinic != nil {
		b.routes = append(b.routes,
			route{"GET", "/v1/oqs/events", paired, b.clinic.handleEvents},
			route{"POST", "/v1/oqs/confirm", paired, b.clinic.handleConfirm},
		)
	}
	b.mux = http.NewServeMux()
	for _, rt := range b.routes {
		b.mux.Handle(rt.method+" "+rt.pattern, b.guard(rt))
	}
}

// guard applies a route's access rule.
func (b *Bridge) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := callerOf(r)
		switch rt.access {
		case paired:
			if !c.paired {
				writeError(w, r, newError(http.StatusUnauthorized, "unauthorized", "トークンが必要です: 先に POST /v1/pair で登録してください a token is needed: pair first (POST /v1/pair), or use a local application's token"))
				return
			}
		case session:
			if !c.session {
				writeError(w, r, newError(http.StatusForbidden, "no-session", "窓口画面（mynakit open で開いたもの）からのみ受け付けます accepted only from the counter page opened with mynakit open"))
				return
			}
		case pairable:
			web := c.origin != "" && c.origin != b.self && !c.crossSite && !isApp(c.principal)
			app := c.paired && isApp(c.principal)
			if !web && !app {
				writeError(w, r, newError(http.StatusForbidden, "forbidden-origin", "許可されたWebオリジン、またはトークンを持つローカルアプリケーションだけが登録できます only an allowed web origin, or a local application with its token, may pair"))
				return
			}
		}
		rt.handler(w, r)
	})
}

//go:embed openapi.json
var openAPI []byte

func (b *Bridge) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPI)
}
