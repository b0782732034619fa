package nativehost

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/webeid"
)

// Card is what the host needs of a card: *mynakit.Card through FromCard.
type Card interface {
	webeid.Authenticator
	// SignDigest signs a digest with the signing key (署名用, the signing
	// password).
	SignDigest(ctx context.Context, h crypto.Hash, digest []byte) ([]byte, *x509.Certificate, error)
	// SigningCertificate reads the signing certificate (it needs the
	// signing password on this card).
	SigningCertificate(ctx context.Context) (*x509.Certificate, error)
	Close() error
}

// Options configure a host.
type Options struct {
	// Open opens the card on first use; the card stays open, with its one
	// PIN session, for the rest of the connection.
	Open func(ctx context.Context) (Card, error)
	// Version is announced first, as the Web eID application does.
	Version string
	// DigestOrigins are the origins allowed to have a bare digest signed
	// with the signing key. Empty: none (the default), because the holder
	// cannot see what a digest stands for.
	DigestOrigins []string
	// CommandTimeout bounds one command, PIN dialog included (0: 2 min).
	CommandTimeout time.Duration
}

// Web eID's error codes, as web-eid.js maps them to typed errors.
const (
	CodeUserCancelled   = "ERR_WEBEID_USER_CANCELLED"
	CodeUserTimeout     = "ERR_WEBEID_USER_TIMEOUT"
	CodeInvalidArgument = "ERR_WEBEID_NATIVE_INVALID_ARGUMENT"
	CodeFatal           = "ERR_WEBEID_NATIVE_FATAL"
)

// ErrUserCancelled is what a prompter returns (wrapped) when the holder
// closes the PIN dialog; the host answers ERR_WEBEID_USER_CANCELLED.
var ErrUserCancelled = errors.New("the holder cancelled")

type originKey struct{}

// OriginFrom is the origin of the command being served, for a prompter to
// name in its dialog ("" outside a command).
func OriginFrom(ctx context.Context) string {
	s, _ := ctx.Value(originKey{}).(string)
	return s
}

type request struct {
	Command   string          `json:"command"`
	Arguments json.RawMessage `json:"arguments"`
}

type args struct {
	ChallengeNonce string `json:"challengeNonce"`
	Origin         string `json:"origin"`
	Lang           string `json:"lang"`
	Certificate    string `json:"certificate"`
	Hash           string `json:"hash"`
	HashFunction   string `json:"hashFunction"`
}

// SignatureAlgorithm is Web eID's description of a signing scheme.
type SignatureAlgorithm struct {
	CryptoAlgorithm string `json:"cryptoAlgorithm"`
	HashFunction    string `json:"hashFunction"`
	PaddingScheme   string `json:"paddingScheme"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type failure struct {
	Error errorBody `json:"error"`
}

// hashes are the hash functions the card's PKCS#1 v1.5 signing accepts
// (docs/card.md §5.1), by Web eID's names. SHA-1 is not offered.
var hashes = []struct {
	name string
	h    crypto.Hash
}{{"SHA-256", crypto.SHA256}, {"SHA-384", crypto.SHA384}, {"SHA-512", crypto.SHA512}}

// Serve runs the host on one browser connection: it announces its version,
// then answers commands until quit, end of input, a framing error or ctx's
// end. It returns nil on quit or a clean end of input.
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = 2 * time.Minute
	}
	h := &host{opts: opts}
	defer h.close()
	if err := WriteMessage(out, map[string]string{"version": opts.Version}); err != nil {
		return err
	}
	for {
		msgs := make(chan readResult, 1)
		go func() {
			b, err := ReadMessage(in)
			msgs <- readResult{b, err}
		}()
		var m readResult
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m = <-msgs:
		}
		if errors.Is(m.err, io.EOF) {
			return nil
		}
		if m.err != nil {
			// The stream cannot be trusted past a bad frame: say why, and end.
			_ = WriteMessage(out, failure{errorBody{CodeFatal, m.err.Error()}})
			return m.err
		}
		reply, quit := h.handle(ctx, m.b)
		if err := WriteMessage(out, reply); err != nil {
			return err
		}
		if quit {
			return nil
		}
	}
}

type readResult struct {
	b   []byte
	err error
}

type host struct {
	opts Options
	card Card
}

func (h *host) close() {
	if h.card != nil {
		_ = h.card.Close()
	}
}

func invalid(format string, a ...any) (any, bool) {
	return failure{errorBody{CodeInvalidArgument, fmt.Sprintf(format, a...)}}, false
}

// handle answers one message; the bool is true for quit.
func (h *host) handle(ctx context.Context, raw []byte) (any, bool) {
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		return invalid("message is not a Web eID command: %v", err)
	}
	if req.Command == "quit" {
		return struct{}{}, true
	}
	var a args
	if len(req.Arguments) > 0 {
		if err := json.Unmarshal(req.Arguments, &a); err != nil {
			return invalid("arguments: %v", err)
		}
	}
	origin, err := webeid.CanonicalOrigin(a.Origin)
	if err != nil {
		return invalid("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, originKey{}, origin), h.opts.CommandTimeout)
	defer cancel()
	switch req.Command {
	case "authenticate":
		if err := webeid.CheckNonce(a.ChallengeNonce); err != nil {
			return invalid("%v", err)
		}
		card, err := h.open(ctx)
		if err != nil {
			return failed(ctx, err), false
		}
		tok, err := webeid.Authenticate(ctx, card, origin, a.ChallengeNonce)
		if err != nil {
			return failed(ctx, err), false
		}
		return tok, false
	case "get-signing-certificate":
		card, err := h.open(ctx)
		if err != nil {
			return failed(ctx, err), false
		}
		cert, err := card.SigningCertificate(ctx)
		if err != nil {
			return failed(ctx, err), false
		}
		algs := make([]SignatureAlgorithm, len(hashes))
		for i, hf := range hashes {
			algs[i] = SignatureAlgorithm{"RSA", hf.name, "PKCS1.5"}
		}
		return struct {
			Certificate string               `json:"certificate"`
			Algorithms  []SignatureAlgorithm `json:"supportedSignatureAlgorithms"`
		}{base64.StdEncoding.EncodeToString(cert.Raw), algs}, false
	case "sign":
		return h.sign(ctx, origin, a), false
	}
	return invalid("unknown command %q (want authenticate, get-signing-certificate, sign or quit)", req.Command)
}

func (h *host) sign(ctx context.Context, origin string, a args) any {
	if !slices.Contains(h.opts.DigestOrigins, origin) {
		return failure{errorBody{CodeFatal, origin + " is not allowed to have digests signed with the signing key (署名用電子証明書); an administrator must allow it"}}
	}
	i := slices.IndexFunc(hashes, func(e struct {
		name string
		h    crypto.Hash
	}) bool {
		return strings.EqualFold(e.name, a.HashFunction)
	})
	if i < 0 {
		f, _ := invalid("hash function %q (want SHA-256, SHA-384 or SHA-512)", a.HashFunction)
		return f
	}
	hf := hashes[i]
	digest, err := base64.StdEncoding.DecodeString(a.Hash)
	if err != nil || len(digest) != hf.h.Size() {
		f, _ := invalid("hash must be the base64 of a %d-byte %s digest", hf.h.Size(), hf.name)
		return f
	}
	want, err := base64.StdEncoding.DecodeString(a.Certificate)
	if err != nil || len(want) == 0 {
		f, _ := invalid("certificate must be the base64 DER from get-signing-certificate")
		return f
	}
	card, err := h.open(ctx)
	if err != nil {
		return failed(ctx, err)
	}
	sig, cert, err := card.SignDigest(ctx, hf.h, digest)
	if err != nil {
		return failed(ctx, err)
	}
	if string(cert.Raw) != string(want) {
		// Another card was inserted since get-signing-certificate: the
		// page would attach a certificate that did not make the signature.
		return failure{errorBody{CodeFatal, "the card's signing certificate is not the one the page sent (was the card changed?)"}}
	}
	return struct {
		Algorithm SignatureAlgorithm `json:"signatureAlgorithm"`
		Signature string             `json:"signature"`
	}{SignatureAlgorithm{"RSA", hf.name, "PKCS1.5"}, base64.StdEncoding.EncodeToString(sig)}
}

func (h *host) open(ctx context.Context) (Card, error) {
	if h.card != nil {
		return h.card, nil
	}
	if h.opts.Open == nil {
		return nil, errors.New("no card opener configured")
	}
	c, err := h.opts.Open(ctx)
	if err != nil {
		return nil, err
	}
	h.card = c
	return c, nil
}

// failed maps a card or prompt error to Web eID's codes. The message never
// carries a secret: card and PIN errors name keys and counts only.
func failed(ctx context.Context, err error) failure {
	code := CodeFatal
	switch {
	case errors.Is(err, ErrUserCancelled), errors.Is(err, context.Canceled):
		code = CodeUserCancelled
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		code = CodeUserTimeout
	case errors.Is(err, webeid.ErrNonce), errors.Is(err, webeid.ErrOrigin):
		code = CodeInvalidArgument
	}
	msg := err.Error()
	switch {
	case errors.Is(err, pin.ErrKeyBlocked), errors.Is(err, apdu.ErrBlocked):
		msg = "暗証番号がロックされています。市区町村の窓口で初期化してください the PIN is blocked; the municipality's office can reset it: " + msg
	case errors.Is(err, pin.ErrWouldBlock):
		msg = "残り1回です。誤るとロックされます only one try left; a wrong PIN would block the key: " + msg
	case errors.Is(err, apdu.ErrCardRemoved):
		msg = "カードが取り出されました the card was removed: " + msg
	}
	return failure{errorBody{code, msg}}
}
