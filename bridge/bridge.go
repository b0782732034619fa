package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/internal/loopback"
)

// Options configures a Bridge.
type Options struct {
	// Addr is the address the bridge is reached at (host:port of its
	// listener, see Listen). The Host header and the bridge's own origin
	// are checked against it.
	Addr string
	// AllowOrigins are the web origins (scheme://host[:port]) whose pages
	// may use the bridge, after pairing. The bridge's own origin (its
	// pages) is always allowed.
	AllowOrigins []string
	// Backend finds readers and opens cards (PCSC or LocalReaders).
	Backend Backend
	// Log is the access log every card operation is written to. Required.
	Log *accesslog.Log
	// Consent, when set, asks for secrets and pairings itself (--prompt
	// terminal); nil shows the bridge's consent page.
	Consent Consenter
	// TrustDirs adds trust anchors, as mynakit.OpenOptions.TrustDirs does.
	TrustDirs []string
	// Clinic turns on the clinic mode (オンライン資格確認); nil: off.
	Clinic *ClinicOptions

	// Secret is the launch secret (see Launch): the one-time counter URLs
	// and the local applications' tokens are derived from it. Nil: a fresh
	// one, held in memory only.
	Secret []byte
	// DigestSigners are the principals (web origins, or "app:NAME" for a
	// local application) allowed to have a raw digest signed with the
	// signing key, whose content the holder cannot be shown. Off for
	// everyone else (a document is signed instead).
	DigestSigners []string
	// ArmDelay is how long the consent and pairing pages must have been
	// shown before their buttons count (default 1s): a click meant for
	// something else cannot approve.
	ArmDelay time.Duration

	// QueueDepth is how many operations may wait for one reader (default
	// 64); more are refused with 429.
	QueueDepth int
	// QueueWait is how long an operation may wait for its reader (default
	// 30s); longer is 503.
	QueueWait time.Duration
	// ConsentTimeout is how long an operation waits for the holder on the
	// consent page (default 60s); meanwhile, others waiting for the reader
	// are told "waiting-for-consent", and the counter page may cancel it.
	ConsentTimeout time.Duration
	// ResultTTL is how long a finished operation's result is kept for its
	// caller (default 2 minutes; a card's results go when it is pulled).
	ResultTTL time.Duration
	// MaxDocument bounds a document sent for signing (default 16 MiB).
	MaxDocument int64
	// SpoolDir holds documents waiting to be signed, in private
	// temporary files (default: the system's temporary folder; serve uses
	// the runtime directory).
	SpoolDir string

	// Logger gets the bridge's own messages (never a secret or a card
	// fact). Nil: discarded.
	Logger *log.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Bridge is the local HTTP bridge: an http.Handler serving the card API,
// the counter page and the consent page. Build it with New, serve it with
// Serve, and Close it when done.
type Bridge struct {
	opts     Options
	mux      *http.ServeMux
	routes   []route
	hosts    map[string]bool
	self     string // the bridge's own origin, canonical
	selfAlt  map[string]bool
	allowed  map[string]bool
	logger   *log.Logger
	now      func() time.Time
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	events   *hub[event]
	clinic   *clinic
	limiter  *limiter
	tokens   *tokens
	sessions *sessions
	closeOne sync.Once

	secret   []byte
	digestOK map[string]bool

	// readTimeout and writeTimeout are the server's (fields so that tests
	// can shorten them).
	readTimeout, writeTimeout time.Duration

	mu        sync.Mutex
	readers   []*reader
	unplugged bool // the last reader was removed while the service ran (readers.go)
	ops       map[string]*operation
	joinable  map[string]*operation // status operations not yet started, by reader and origin
	lastFacts map[string]cardFacts  // by principal: the last genuine read, for the clinic match
	clinicOK  map[string]bool       // principals paired for the clinic mode's face results
}

// Defaults.
const (
	DefaultAddr           = "127.0.0.1:7457"
	defaultQueueDepth     = 64
	defaultQueueWait      = 30 * time.Second
	defaultConsentTimeout = 60 * time.Second
	defaultArmDelay       = time.Second
	defaultResultTTL      = 2 * time.Minute
	defaultMaxDocument    = 16 << 20
)

// New builds a bridge. It starts following the backend's readers at once.
func New(opts Options) (*Bridge, error) {
	if opts.Backend == nil {
		return nil, errors.New("bridge: Options.Backend is required")
	}
	if opts.Log == nil {
		return nil, errors.New("bridge: Options.Log is required: every card operation is recorded")
	}
	host, port, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("bridge: address %q: %w", opts.Addr, err)
	}
	if err := checkLoopback(host); err != nil {
		return nil, err
	}
	if strings.EqualFold(host, "localhost") {
		host = "localhost"
	}
	if opts.QueueDepth <= 0 {
		opts.QueueDepth = defaultQueueDepth
	}
	if opts.QueueWait <= 0 {
		opts.QueueWait = defaultQueueWait
	}
	if opts.ConsentTimeout <= 0 {
		opts.ConsentTimeout = defaultConsentTimeout
	}
	if opts.ArmDelay <= 0 {
		opts.ArmDelay = defaultArmDelay
	}
	if opts.Secret == nil {
		opts.Secret = NewSecret()
	}
	if len(opts.Secret) < 16 {
		return nil, errors.New("bridge: Options.Secret is too short")
	}
	if opts.ResultTTL <= 0 {
		opts.ResultTTL = defaultResultTTL
	}
	if opts.MaxDocument <= 0 {
		opts.MaxDocument = defaultMaxDocument
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	b := &Bridge{
		opts: opts, logger: logger, now: opts.Now,
		hosts: map[string]bool{}, selfAlt: map[string]bool{}, allowed: map[string]bool{},
		ops: map[string]*operation{}, joinable: map[string]*operation{}, lastFacts: map[string]cardFacts{}, clinicOK: map[string]bool{},
		events: newHub[event](subBuffer), limiter: newLimiter(opts.Now), tokens: newTokens(), sessions: newSessions(opts.Now),
		secret: append([]byte(nil), opts.Secret...), digestOK: map[string]bool{},
		readTimeout: readTimeout, writeTimeout: writeTimeout,
	}
	for _, h := range hostNames(host) {
		hp := net.JoinHostPort(h, port)
		b.hosts[hp] = true
		o := "http://" + hp
		if b.self == "" {
			b.self = o
		}
		b.selfAlt[o] = true
	}
	for _, o := range opts.AllowOrigins {
		c, err := canonicalOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("bridge: --allow-origin %q: %w", o, err)
		}
		b.allowed[c] = true
	}
	for _, o := range opts.DigestSigners {
		if isApp(o) {
			b.digestOK[o] = true
			continue
		}
		c, err := canonicalOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("bridge: digest signer %q: %w", o, err)
		}
		b.digestOK[c] = true
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if opts.Clinic != nil {
		c, err := newClinic(b, *opts.Clinic)
		if err != nil {
			b.cancel()
			return nil, err
		}
		b.clinic = c
	}
	b.buildRoutes()
	b.wg.Add(1)
	go b.follow(opts.Backend.Watch(b.ctx))
	if b.clinic != nil {
		b.wg.Add(1)
		go b.clinic.run(b.ctx)
	}
	return b, nil
}

// Origin is the bridge's own origin (http://127.0.0.1:PORT): its counter
// page, and the consent page where secrets are typed.
func (b *Bridge) Origin() string { return b.self }

// Launch is what to write to the runtime directory (see WriteLaunch) for
// the programs of this OS user: the launch secret and this bridge's URL.
func (b *Bridge) Launch() Launch {
	return Launch{Secret: append([]byte(nil), b.secret...), URL: b.self}
}

// AppToken is the token of the local application name (see
// Launch.AppToken).
func (b *Bridge) AppToken(name string) (string, error) { return appToken(b.secret, name) }

// OpenURL is a one-time URL to the counter page, valid for ttl.
func (b *Bridge) OpenURL(ttl time.Duration) string {
	l := b.Launch()
	return l.OpenURL(b.now(), min(ttl, maxTicketTTL))
}

// Close stops following readers, cancels every operation (a waiting
// consent page answers "cancelled") and ends every event stream. The
// access log is the caller's to close.
func (b *Bridge) Close() error {
	b.closeOne.Do(func() {
		// Under b.mu, so that no operation starts (start checks the
		// context under it) once Close waits for them.
		b.mu.Lock()
		b.cancel()
		b.mu.Unlock()
		b.events.close()
		b.wg.Wait()
		b.mu.Lock()
		for _, op := range b.ops {
			op.forget()
		}
		b.ops = map[string]*operation{}
		b.mu.Unlock()
	})
	return nil
}

// ServeHTTP checks the Host, the peer, the Origin and CORS for every
// request, then routes it.
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w.Header())
	if aerr := b.checkRequest(w, r); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if r.Method == http.MethodOptions {
		// An allowed origin's preflight (checkRequest set the CORS headers).
		w.WriteHeader(http.StatusNoContent)
		return
	}
	b.mux.ServeHTTP(w, r)
}

// Server timeouts and limits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 32 << 10
)

// Serve serves the bridge on ln (from Listen) and on more (from ListenUnix)
// until ctx ends, then shuts down: it closes the bridge (ending event
// streams and operations) and waits for requests under way.
func (b *Bridge) Serve(ctx context.Context, ln net.Listener, more ...net.Listener) error {
	srv := &http.Server{
		Handler:           b,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       b.readTimeout,
		WriteTimeout:      b.writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          b.logger,
		BaseContext:       func(net.Listener) context.Context { return b.ctx },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if pc, ok := c.(*peerConn); ok {
				return context.WithValue(ctx, socketKey{}, socketPeer{uid: pc.uid})
			}
			return ctx
		},
	}
	lns := append([]net.Listener{ln}, more...)
	done := make(chan error, len(lns))
	for _, l := range lns {
		go func() { done <- srv.Serve(l) }()
	}
	select {
	case err := <-done:
		b.Close()
		srv.Close()
		for range lns[1:] {
			<-done
		}
		return err
	case <-ctx.Done():
	case <-b.ctx.Done():
	}
	b.Close()
	// Requests under way get a moment to finish; connections that never
	// sent one are then closed too (Shutdown alone waits five seconds for
	// those).
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	for range lns {
		if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
	}
	return err
}

// ErrNotLoopback: the bridge listens on loopback only.
var ErrNotLoopback = errors.New("ループバックでのみ待ち受けます the bridge listens on loopback only (127.0.0.1, ::1 or localhost)")

// Listen opens the bridge's listener on addr, refusing any address that is
// not loopback: on a shared PC, the card must not be reachable from the
// network.
func Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", addr, err)
	}
	if err := checkLoopback(host); err != nil {
		return nil, err
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	return net.Listen("tcp", net.JoinHostPort(host, port))
}

// checkLoopback applies the shared rule (package loopback) to a listen
// address's host, with the bridge's own error.
func checkLoopback(host string) error {
	if !loopback.Host(host) {
		return fmt.Errorf("%w: %q", ErrNotLoopback, host)
	}
	return nil
}

// hostNames are the names a browser may use for the bridge's host.
func hostNames(host string) []string {
	if host == "localhost" {
		return []string{"127.0.0.1", "localhost"}
	}
	return []string{host, "localhost"}
}
