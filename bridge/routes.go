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
	// paired: a request carrying its origin's token.
	paired
	// ownPage: the bridge's own pages only (the consent form's answer).
	ownPage
	// allowedOrigin: an allowed origin or a local application, token or
	// not (asking to pair).
	allowedOrigin
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
		{"POST", "/v1/pair", allowedOrigin, b.handlePair},
		{"GET", "/v1/operations/{id}", public, b.handleOperation}, // ownOp checks
		{"DELETE", "/v1/operations/{id}", public, b.handleCancel}, // ownOp checks
		{"GET", "/v1/operations/{id}/result", paired, b.handleResult},
		{"GET", "/v1/operations/{id}/photo", paired, b.handleOpPhoto},
		{"GET", "/v1/openapi.json", public, b.handleOpenAPI},
		{"GET", "/{$}", public, b.handleCounter},
		{"GET", "/static/{file}", public, b.handleStatic},
		{"GET", "/consent/{id}", public, b.handleConsentPage},
		{"POST", "/consent/{id}", ownPage, b.handleConsentSubmit},
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
				writeError(w, r, newError(http.StatusUnauthorized, "unauthorized", "トークンが必要です: 先に POST /v1/pair で登録してください a token is needed: pair first (POST /v1/pair)"))
				return
			}
		case ownPage:
			if c.origin != b.self {
				writeError(w, r, newError(http.StatusForbidden, "forbidden-origin", "ブリッジ自身の画面からのみ受け付けます accepted from the bridge's own pages only"))
				return
			}
		case allowedOrigin:
			if c.crossSite {
				writeError(w, r, newError(http.StatusForbidden, "forbidden-origin", "このオリジンは許可されていません the origin is not allowed"))
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
