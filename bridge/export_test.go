package bridge

import (
	"net/http"
	"time"
)

// Routes lists the method and pattern of every route the bridge serves,
// for the OpenAPI test.
func Routes(b *Bridge) [][2]string {
	var out [][2]string
	for _, r := range b.routes {
		out = append(out, [2]string{r.method, r.pattern})
	}
	return out
}

// Pattern is the mux pattern a request would be routed to ("" for none).
func Pattern(b *Bridge, method, path string) string {
	req := newTestRequest(method, path)
	_, p := b.mux.Handler(req)
	return p
}

func newTestRequest(method, path string) *http.Request {
	r, err := http.NewRequest(method, "http://127.0.0.1"+path, nil)
	if err != nil {
		panic(err)
	}
	return r
}

// SetServerTimeouts shortens the server's read and write timeouts before
// Serve.
func SetServerTimeouts(b *Bridge, d time.Duration) { b.readTimeout, b.writeTimeout = d, d }
