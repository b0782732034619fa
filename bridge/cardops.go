package bridge

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/face"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/pdfsig"
	"github.com/mynakit/mynakit/present"
	"github.com/mynakit/mynakit/qr"
	"github.com/mynakit/mynakit/trust"
)

// respondTimeout bounds how long a request waits for its operation to
// finish or to need the holder, beyond the queue.
const respondTimeout = 30 * time.Second

// respond waits until op finishes or asks the holder: a finished operation
// answers with its result (200) or error; one that waits for the holder
// answers 202 with where to follow it. A caller that goes away before the
// holder was asked cancels the operation.
func (b *Bridge) respond(w http.ResponseWriter, r *http.Request, op *operation, render func(http.ResponseWriter, *http.Request, *result)) {
	wait := b.opts.QueueWait + respondTimeout
	// Waiting for the reader may outlast the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + 10*time.Second))
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	s := op.wait(ctx, func(s opState) bool { return s.finished() || s == stateConsent })
	op.mu.Lock()
	op.waiters--
	last, asked := op.waiters <= 0, op.asked
	op.mu.Unlock()
	switch {
	case s == stateConsent:
		b.accepted(w, r, op)
	case s.finished():
		_, _, res, aerr, _ := op.view()
		switch {
		case aerr != nil:
			writeError(w, r, aerr)
		case res == nil:
			writeError(w, r, newError(http.StatusGone, "gone", "結果は破棄されました the result was discarded"))
		default:
			render(w, r, res)
		}
	case r.Context().Err() != nil:
		if !asked && last {
			op.cancel(errCancelledByCaller)
		}
	default:
		// Still running (a slow card): follow it like a consent.
		b.accepted(w, r, op)
	}
}

// accepted answers 202 with the operation's state and links.
func (b *Bridge) accepted(w http.ResponseWriter, r *http.Request, op *operation) {
	w.Header().Set("Location", "/v1/operations/"+op.id)
	write(w, r, http.StatusAccepted, b.opJSON(op, false))
}

// renderJSON answers with a result's JSON as it is.
func renderJSON(w http.ResponseWriter, r *http.Request, res *result) {
	write(w, r, http.StatusOK, res.json)
}

// renderPNG answers with a result's picture.
func renderPNG(w http.ResponseWriter, r *http.Request, res *result) {
	if res == nil || res.png == nil {
		writeError(w, r, newError(http.StatusNotFound, "no-picture", "画像がありません the operation made no picture"))
		return
	}
	w.Header().Set("Content-Type", mediaPNG)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.png)
}

// cardFor finds the path's reader with a card in it.
func (b *Bridge) cardFor(w http.ResponseWriter, r *http.Request) (*reader, uint64, bool) {
	rd, aerr := b.lookup(r.PathValue("reader"))
	if aerr != nil {
		writeError(w, r, aerr)
		return nil, 0, false
	}
	b.mu.Lock()
	present, gen := rd.present, rd.gen
	b.mu.Unlock()
	if !present {
		writeError(w, r, newError(http.StatusConflict, "no-card", "カードがありません no card in the reader"))
		return nil, 0, false
	}
	return rd, gen, true
}

// launch starts op and answers for it.
func (b *Bridge) launch(w http.ResponseWriter, r *http.Request, op *operation, render func(http.ResponseWriter, *http.Request, *result)) {
	if !b.start(op) {
		writeError(w, r, cancelledError(errClosed))
		return
	}
	b.respond(w, r, op, render)
}

// --- GET /v1/readers/{reader}/card ---

// cardStatusJSON is what /card tells without consent: whether a card is
// in and the tries left on its keys, nothing that tells one card (or
// person) from another.
type cardStatusJSON struct {
	Reader      string `json:"reader"`
	CardPresent bool   `json:"card_present"`
	PINs        any    `json:"pins,omitempty"`
}

// handleCard reports whether a card is in and the tries left on its keys,
// without using a try. Requests of one origin that arrive while such a
// read waits for the reader, or runs, share it: the bridge runs one
// operation at a time per reader, so nothing of its own can change the
// tries in between.
func (b *Bridge) handleCard(w http.ResponseWriter, r *http.Request) {
	rd, aerr := b.lookup(r.PathValue("reader"))
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	c := callerOf(r)
	b.mu.Lock()
	if !rd.present {
		name := rd.name
		b.mu.Unlock()
		write(w, r, http.StatusOK, cardStatusJSON{Reader: name})
		return
	}
	key := rd.name + "\x00" + c.principal
	op := b.joinable[key]
	if op != nil && op.gen == rd.gen {
		op.mu.Lock()
		joined := op.state == stateQueued || op.state == stateRunning
		if joined {
			op.waiters++
		}
		op.mu.Unlock()
		if joined {
			b.mu.Unlock()
			b.respond(w, r, op, renderJSON)
			return
		}
	}
	op = newOperation(b.ctx, c.principal, ActionStatus, rd, rd.gen, []Data{DataPINStatus}, purpose{}, b.now())
	run := b.onCard(func(ctx context.Context, card *mynakit.Card, op *operation) (*result, error) {
		pins, err := card.PINStatus(ctx)
		if err != nil {
			return nil, err
		}
		j, err := json.Marshal(cardStatusJSON{Reader: rd.name, CardPresent: true, PINs: pins})
		return &result{json: j}, err
	})
	op.run = func(ctx context.Context, op *operation) (*result, error) {
		// No longer joinable once run, whether it got the reader or not.
		defer func() {
			b.mu.Lock()
			if b.joinable[key] == op {
				delete(b.joinable, key)
			}
			b.mu.Unlock()
		}()
		return run(ctx, op)
	}
	b.joinable[key] = op
	b.mu.Unlock()
	b.launch(w, r, op, renderJSON)
}

// --- POST /v1/readers/{reader}/read ---

// ReadRequest says what POST /read reads.
type ReadRequest struct {
	// Parts: text, surface, common, jpki (empty: all).
	Parts []string `json:"parts,omitempty"`
	// Photo decodes the photo; it is then served as PNG at
	// /v1/operations/{id}/photo when its signature verified.
	Photo bool `json:"photo,omitempty"`
	// AgeRecord reads the card face's age-verification record.
	AgeRecord bool `json:"age_record,omitempty"`
	// Thorough makes every check the card allows.
	Thorough bool `json:"thorough,omitempty"`
	// ProveKey has the JPKI key sign a host nonce (needs the PIN).
	ProveKey bool `json:"prove_key,omitempty"`
	// CodeB asks for 照合番号B (the card-face data) instead of the PIN.
	CodeB bool `json:"code_b,omitempty"`
}

// readOptions checks a read request and turns it into the library's.
func (q ReadRequest) readOptions() (mynakit.ReadOptions, []Data, error) {
	if len(q.Parts) > 8 {
		return mynakit.ReadOptions{}, nil, errors.New("too many parts")
	}
	parts, err := mynakit.ParseParts(strings.Join(q.Parts, ","))
	if err != nil {
		return mynakit.ReadOptions{}, nil, err
	}
	var data []Data
	seen := map[mynakit.Part]bool{}
	for _, p := range parts {
		if !seen[p] {
			seen[p] = true
			d, ok := dataOfPart(p)
			if !ok {
				return mynakit.ReadOptions{}, nil, fmt.Errorf("part %q is not offered by the bridge", p)
			}
			data = append(data, d)
		}
	}
	ro := mynakit.ReadOptions{Parts: parts, Photo: q.Photo && seen[mynakit.PartSurface], AgeRecord: q.AgeRecord, Thorough: q.Thorough, ProveJPKIKey: q.ProveKey}
	if ro.Photo {
		data = append(data, DataPhoto)
	}
	if ro.AgeRecord || ro.Thorough {
		data = append(data, DataAgeRecord)
	}
	if ro.ProveJPKIKey {
		data = append(data, DataAuthKey)
	}
	return ro, data, nil
}

// identifiesWithoutSecret says whether a read gets something that tells
// the card or the person apart (the 共通AP's serial, municipality and
// expiry; the authentication certificate) without the holder typing a
// secret first. The text and card-face parts are read first and need the
// PIN or the card-face data, which is the holder's consent to the whole
// read; without them, the holder is asked.
func identifiesWithoutSecret(ro mynakit.ReadOptions) bool {
	var ident, secret bool
	for _, p := range ro.Parts {
		switch p {
		case mynakit.PartCommon, mynakit.PartJPKI:
			ident = true
		case mynakit.PartText, mynakit.PartSurface:
			secret = true
		}
	}
	return ident && !secret
}

// askFirst asks the holder to allow op before run; a refusal (or no
// answer) is recorded in the access log like any operation's end.
func (b *Bridge) askFirst(run func(ctx context.Context, op *operation) (*result, error)) func(ctx context.Context, op *operation) (*result, error) {
	return func(ctx context.Context, op *operation) (*result, error) {
		ok, err := b.askYesNo(ctx, op)
		if err == nil && !ok {
			err = errDenied
		}
		if err != nil {
			e := accesslog.Entry{Origin: op.origin, Action: string(op.action), Data: dataNames(op.data)}
			if op.reader != nil {
				e.Reader = op.reader.name
			}
			return nil, b.logged(e, func(end *accesslog.Entry) error {
				end.Outcome = b.outcome(op, nil, err)
				return err
			})
		}
		return run(ctx, op)
	}
}

func (b *Bridge) handleRead(w http.ResponseWriter, r *http.Request) {
	var q ReadRequest
	if aerr := decodeBody(w, r, maxJSONBody, &q); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	ro, data, err := q.readOptions()
	if err != nil {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "読み取る部分が違います "+err.Error()))
		return
	}
	rd, gen, ok := b.cardFor(w, r)
	if !ok {
		return
	}
	c := callerOf(r)
	op := newOperation(b.ctx, c.principal, ActionRead, rd, gen, data, purpose{What: "カードの情報を読み取ります read the card", Items: describeData(data)}, b.now())
	op.codeBFirst = q.CodeB
	op.run = b.onCard(func(ctx context.Context, card *mynakit.Card, op *operation) (*result, error) {
		return b.read(ctx, card, op, ro)
	})
	if identifiesWithoutSecret(ro) {
		op.run = b.askFirst(op.run)
	}
	b.launch(w, r, op, renderJSON)
}

// read runs a read, sending each part's facts to the caller's event
// stream as soon as they are verified.
func (b *Bridge) read(ctx context.Context, card *mynakit.Card, op *operation, ro mynakit.ReadOptions) (*result, error) {
	res := &result{}
	synced, logOK := false, true
	ro.Progress = func(p mynakit.Progress) {
		if !p.Done {
			b.publishProgress(op, p)
			return
		}
		if !synced {
			// The operation's begin record is on disk before its first
			// fact leaves; if it cannot be, no fact leaves (and the end
			// record fails the read).
			synced, logOK = true, b.opts.Log.Sync() == nil
		}
		if !logOK {
			return
		}
		if p.Part == mynakit.PartSurface {
			if fi := faceImagesOf(p.Report); fi != nil {
				op.mu.Lock()
				op.faceImages = fi
				op.mu.Unlock()
			}
		}
		if p.Part == mynakit.PartSurface && ro.Photo {
			if png := photoPNG(p.Report); png != nil {
				op.mu.Lock()
				res.photo = png
				op.photoEarly = png
				op.mu.Unlock()
			}
		}
		b.publishFacts(op, p)
	}
	rep, err := card.Read(ctx, ro)
	if err != nil {
		return nil, err
	}
	j, err := rep.MarshalJSON()
	if err != nil {
		return nil, err
	}
	res.json, res.verdict = j, string(rep.Verdict)
	if ro.Photo && res.photo == nil {
		res.photo = photoPNG(rep)
	}
	if fi := faceImagesOf(rep); fi != nil {
		op.mu.Lock()
		if op.faceImages == nil {
			op.faceImages = fi
		}
		op.mu.Unlock()
	}
	if rep.Text != nil && (rep.Verdict == trust.Genuine || rep.Verdict == trust.GenuineExpired) {
		b.mu.Lock()
		if op.reader.gen == op.gen {
			b.lastFacts[op.origin] = cardFacts{reader: op.reader, gen: op.gen, name: rep.Text.Name, birth: rep.Text.BirthDate}
		}
		b.mu.Unlock()
	}
	return res, nil
}

// photoPNG encodes a report's photo, only when its J-LIS signature
// verified.
func photoPNG(rep *mynakit.Report) []byte {
	if rep == nil || rep.Surface == nil || rep.Surface.PhotoImage == nil {
		return nil
	}
	if !rep.Covered(face.PartPhoto) {
		return nil
	}
	var buf bytes.Buffer
	if err := face.EncodePNG(&buf, rep.Surface.PhotoImage); err != nil {
		return nil
	}
	return buf.Bytes()
}

// faceImages are the card face's name and address pictures (DF25, DF26)
// as the card stores them (PNG), and whether the card-face signature
// that covers them verified. They are never decoded by the bridge.
type faceImages struct {
	name, address []byte
	verified      bool
}

// faceImagesOf copies a report's name and address images; nil when the
// card face was not read.
func faceImagesOf(rep *mynakit.Report) *faceImages {
	if rep == nil || rep.Surface == nil || (rep.Surface.NameImage == nil && rep.Surface.AddressImage == nil) {
		return nil
	}
	return &faceImages{
		name:     bytes.Clone(rep.Surface.NameImage),
		address:  bytes.Clone(rep.Surface.AddressImage),
		verified: rep.Covered(face.PartName) && rep.Covered(face.PartAddress),
	}
}

// --- GET /v1/readers/{reader}/photo ---

func (b *Bridge) handlePhoto(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.RawQuery, "code_b")
	var codeB bool
	if err == nil {
		codeB, err = boolParam(q["code_b"])
	}
	if err != nil {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "photo の指定が違います "+err.Error()))
		return
	}
	rd, gen, ok := b.cardFor(w, r)
	if !ok {
		return
	}
	c := callerOf(r)
	data := []Data{DataSurface, DataPhoto}
	op := newOperation(b.ctx, c.principal, ActionPhoto, rd, gen, data, purpose{What: "顔写真を読み取ります read the photo", Items: describeData(data)}, b.now())
	op.codeBFirst = codeB
	op.run = b.onCard(func(ctx context.Context, card *mynakit.Card, op *operation) (*result, error) {
		rep, err := card.Read(ctx, mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartSurface}, Photo: true})
		if err != nil {
			return nil, err
		}
		png := photoPNG(rep)
		if png == nil && rep.Surface != nil && rep.Covered(face.PartPhoto) {
			// Signed, but refused by the decoder's checks (or not there).
			return &result{verdict: string(rep.Verdict)}, newError(http.StatusUnprocessableEntity, "bad-photo", "写真を表示できません the photo could not be decoded: "+rep.Surface.PhotoError)
		}
		if png == nil {
			// Never decoded: the library decodes only a signed photo.
			return &result{verdict: string(rep.Verdict)}, notGenuine("写真の署名を確認できません the photo's J-LIS signature did not verify")
		}
		return &result{png: png, verdict: string(rep.Verdict)}, nil
	})
	b.launch(w, r, op, renderPNG)
}

func notGenuine(msg string) *apiError {
	return newError(http.StatusUnprocessableEntity, "not-genuine", msg)
}

// --- GET /v1/readers/{reader}/qr?kind=age ---

// parseQRQuery reads the qr route's query: kind=age is the only code the
// bridge makes (an attributes code effectively discloses the My Number).
func parseQRQuery(raw string) (qr.Kind, bool, error) {
	q, err := parseQuery(raw, "kind", "code_b")
	if err != nil {
		return 0, false, err
	}
	kind := q["kind"]
	if kind == "" {
		return 0, false, errors.New("kind is required (kind=age)")
	}
	k, err := qr.ParseKind(kind)
	if err != nil {
		return 0, false, err
	}
	if k != qr.KindAge {
		return 0, false, fmt.Errorf("the bridge makes age codes only: an %s code effectively discloses the My Number", k)
	}
	codeB, err := boolParam(q["code_b"])
	return k, codeB, err
}

func (b *Bridge) handleQR(w http.ResponseWriter, r *http.Request) {
	kind, codeB, err := parseQRQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "qr の指定が違います "+err.Error()))
		return
	}
	rd, gen, ok := b.cardFor(w, r)
	if !ok {
		return
	}
	c := callerOf(r)
	data := []Data{DataSurface, DataAgeRecord}
	op := newOperation(b.ctx, c.principal, ActionQR, rd, gen, data, purpose{What: "年齢確認のQRコードを作ります make an age-verification QR code", Items: describeData(data)}, b.now())
	op.codeBFirst = codeB
	op.run = b.onCard(func(ctx context.Context, card *mynakit.Card, op *operation) (*result, error) {
		rep, err := card.Read(ctx, mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartSurface}, AgeRecord: true})
		if err != nil {
			return nil, err
		}
		p, err := rep.QRCode(kind)
		if ng := (*mynakit.NotGenuineError)(nil); errors.As(err, &ng) {
			return &result{verdict: string(ng.Verdict)}, notGenuine("真正と確認できないカードからはコードを作りません no code is made from a card that is not genuine: " + string(ng.Verdict))
		}
		if err != nil {
			return nil, err
		}
		png, err := qr.PNG(p, 0)
		if err != nil {
			return nil, err
		}
		return &result{png: png, verdict: string(rep.Verdict)}, nil
	})
	b.launch(w, r, op, renderPNG)
}

// --- GET /v1/readers/{reader}/certificates/{kind} ---

type certJSON struct {
	Kind         string              `json:"kind"`
	Certificate  present.Certificate `json:"certificate"`
	DER          []byte              `json:"der"`
	CADER        []byte              `json:"ca_der,omitempty"`
	Attributes   map[string]string   `json:"attributes,omitempty"`
	Verification verificationJSON    `json:"verification"`
}

type verificationJSON struct {
	Verdict trust.Verdict `json:"verdict"`
	Checks  []trust.Check `json:"checks"`
}

// parseCertificateQuery reads the certificate route's one option:
// match_text (sign only) ties the signing certificate to the chip by its
// holder facts, compared with the text applet's (which is read for it,
// asking for its PIN), as mynakit.CertificateOptions.MatchText does.
// Without it the signing certificate's verdict is at best unknown: a
// certificate is public.
func parseCertificateQuery(raw string, kind mynakit.CertKind) (mynakit.CertificateOptions, error) {
	q, err := parseQuery(raw, "match_text")
	if err != nil {
		return mynakit.CertificateOptions{}, err
	}
	match, err := boolParam(q["match_text"])
	if err != nil {
		return mynakit.CertificateOptions{}, err
	}
	if match && kind != mynakit.CertSign {
		return mynakit.CertificateOptions{}, errors.New("match_text is for the signing certificate (sign) only")
	}
	return mynakit.CertificateOptions{MatchText: match}, nil
}

func (b *Bridge) handleCertificate(w http.ResponseWriter, r *http.Request) {
	kind := mynakit.CertKind(r.PathValue("kind"))
	if kind != mynakit.CertAuth && kind != mynakit.CertSign {
		writeError(w, r, newError(http.StatusNotFound, "not-found", "証明書は auth か sign です the certificate is auth or sign"))
		return
	}
	opts, err := parseCertificateQuery(r.URL.RawQuery, kind)
	if err != nil {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "証明書の指定が違います "+err.Error()))
		return
	}
	rd, gen, ok := b.cardFor(w, r)
	if !ok {
		return
	}
	c := callerOf(r)
	data := []Data{dataOfCertificate(kind)}
	if opts.MatchText {
		data = append(data, DataText)
	}
	op := newOperation(b.ctx, c.principal, ActionCertificate, rd, gen, data, purpose{What: "電子証明書を読み取ります read a certificate", Items: describeData(data)}, b.now())
	op.run = b.onCard(func(ctx context.Context, card *mynakit.Card, op *operation) (*result, error) {
		rep, err := card.Certificate(ctx, kind, opts)
		if err != nil {
			return nil, err
		}
		out := certJSON{Kind: string(kind), Certificate: present.CertificateOf(rep.Certificate), DER: rep.Certificate.Raw,
			Verification: verificationJSON{Verdict: rep.Verdict, Checks: rep.Checks}}
		if rep.CA != nil {
			out.CADER = rep.CA.Raw
		}
		if at := rep.Attributes; at != nil {
			out.Attributes = map[string]string{"name": at.Name, "address": at.Address, "sex": at.Sex}
			if !at.BirthDate.IsZero() {
				out.Attributes["birth_date"] = at.BirthDate.String()
			}
		}
		j, err := json.Marshal(out)
		return &result{json: j, verdict: string(rep.Verdict)}, err
	})
	if kind == mynakit.CertAuth {
		// The authentication certificate needs no PIN, yet names the
		// person: the holder is asked first.
		op.run = b.askFirst(op.run)
	}
	b.launch(w, r, op, renderJSON)
}

// --- POST /v1/readers/{reader}/authenticate ---

type signatureJSON struct {
	Algorithm   string              `json:"algorithm"`
	Signature   []byte              `json:"signature,omitempty"`
	CMS         []byte              `json:"cms,omitempty"`
	PDF         []byte              `json:"pdf,omitempty"`
	Certificate []byte              `json:"certificate"`
	Summary     present.Certificate `json:"certificate_summary"`
	Check       trust.Check         `json:"certificate_check"`
}

// handleAuthenticate answers with a Web eID 1.0 token bound to the
// caller's verified origin (see authenticateWebEID).
func (b *Bridge) handleAuthenticate(w http.ResponseWriter, r *http.Request) {
	b.authenticateWebEID(w, r)
}

// --- POST /v1/readers/{reader}/sign ---

// SignRequest carries what to sign: a digest (a raw signature comes back)
// or a document (a detached CMS comes back). A body of type
// application/octet-stream is a document.
type SignRequest struct {
	Digest   []byte `json:"digest,omitempty"`
	Hash     string `json:"hash,omitempty"` // sha256 (default), sha384, sha512
	Document []byte `json:"document,omitempty"`
}

func parseHash(s string) (crypto.Hash, error) {
	switch strings.ToLower(s) {
	case "", "sha256", "sha-256":
		return crypto.SHA256, nil
	case "sha384", "sha-384":
		return crypto.SHA384, nil
	case "sha512", "sha-512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("unknown hash %q (want sha256, sha384 or sha512)", s)
}

// maxSignJSON bounds a JSON or CBOR signing request: a digest, or a small
// document; a larger document is sent as application/octet-stream, which
// is hashed as it streams and never held in memory while it waits.
const maxSignJSON = 256 << 10

// signPDF signs a PDF as an incremental update (PAdES B-B, invisible
// signature field), reads it back as a verifier would, and returns the
// signed PDF with the certificate and its check.
func (b *Bridge) signPDF(ctx context.Context, card *mynakit.Card, content []byte) (*result, error) {
	signer, cert, ca, err := card.SigningKey(ctx)
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	if ca != nil {
		chain = append(chain, ca)
	}
	signed, err := pdfsig.Sign(content, signer, cert, chain, pdfsig.SignOptions{Time: b.now()})
	if err != nil {
		return nil, err
	}
	out := signatureJSON{Algorithm: "PAdES baseline B-B (ETSI.CAdES.detached, RSASSA-PKCS1-v1_5-SHA256)", PDF: signed, Certificate: cert.Raw, Summary: present.CertificateOf(cert)}
	if chk, err := card.CertificateCheck(mynakit.CertSign, cert, b.now()); err == nil {
		out.Check = chk
	}
	j, err := json.Marshal(out)
	return &result{json: j}, err
}

func (b *Bridge) handleSign(w http.ResponseWriter, r *http.Request) {
	// The token (checkRequest), the route, the card and a place in the
	// reader's queue come before the body is read.
	rd, gen, ok := b.cardFor(w, r)
	if !ok {
		return
	}
	if !b.reserve(rd) {
		aerr, _ := b.apiErrorOf(nil, errQueueFull)
		writeError(w, r, aerr)
		return
	}
	reserved := true
	defer func() {
		if reserved {
			b.unreserve(rd)
		}
	}()
	c := callerOf(r)
	var q SignRequest
	var doc *spooled
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	// A PDF body comes back as the same PDF with a PAdES signature added
	// (package pdfsig); any other document gets a detached CMS.
	asPDF := mt == "application/pdf"
	if mt == "application/octet-stream" || asPDF {
		var aerr *apiError
		if doc, aerr = b.spool(w, r, b.opts.MaxDocument); aerr != nil {
			writeError(w, r, aerr)
			return
		}
		doc.name = documentName(r)
	} else if aerr := decodeBody(w, r, maxSignJSON, &q); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	defer func() {
		if reserved && doc != nil {
			doc.close()
		}
	}()
	h, err := parseHash(q.Hash)
	switch {
	case err != nil:
	case doc != nil && (q.Digest != nil || q.Document != nil):
		err = errors.New("give either digest or document")
	case doc == nil && (q.Digest == nil) == (q.Document == nil):
		err = errors.New("give either digest or document")
	case q.Digest != nil && len(q.Digest) != h.Size():
		err = fmt.Errorf("a %v digest is %d bytes, not %d", h, h.Size(), len(q.Digest))
	case q.Document != nil && h != crypto.SHA256:
		err = errors.New("a document is signed with SHA-256")
	}
	if err != nil {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "署名の指定が違います "+err.Error()))
		return
	}
	if q.Digest != nil && !b.digestOK[c.principal] {
		writeError(w, r, newError(http.StatusForbidden, "digest-not-allowed", "ダイジェストへの署名は許可されていません。文書を送ってください signing a raw digest is not allowed for this caller (its content cannot be shown to the holder): send the document, or start the bridge with --allow-digest-sign"))
		return
	}
	if q.Document != nil {
		doc = memDocument(q.Document)
		q.Document = nil
	}
	p := purpose{What: "署名用電子証明書で署名します（法的な効力のある電子署名） sign with the signing certificate (a legally binding signature)", Items: describeData(signData)}
	if doc != nil {
		p.Digest, p.DigestAlg = hex.EncodeToString(doc.sum[:]), "SHA-256"
		name := doc.name
		if name == "" {
			name = "（名前なし unnamed）"
		}
		p.Document = fmt.Sprintf("%s — %d バイト bytes", name, doc.size)
		p.Note = "この文書に署名します。内容は依頼元のアプリで確かめてください。 this document is signed; check its content in the application that asks"
	} else {
		p.Digest, p.DigestAlg = hex.EncodeToString(q.Digest), h.String()
		p.Note = "署名する内容はこの画面に表示できません（呼び出し元が計算したダイジェストだけが届いています）。内容を確かめられない場合は断ってください。 The content to be signed cannot be shown: the bridge received only a digest the caller computed. Decline unless you know what it is."
	}
	op := newOperation(b.ctx, c.principal, ActionSign, rd, gen, signData, p, b.now())
	op.reserved = true
	run := b.onCard(func(ctx context.Context, card *mynakit.Card, op *operation) (*result, error) {
		out := signatureJSON{}
		var cert []byte
		if doc != nil {
			content, err := doc.bytes()
			if err != nil {
				return nil, err
			}
			// The holder is asked for the signing password inside
			// SignDocument: by then the page also counts a PDF's pages.
			op.addToDocument(pdfPages(content))
			if asPDF {
				return b.signPDF(ctx, card, content)
			}
			cms, err := card.SignDocument(ctx, content, mynakit.SignOptions{})
			if err != nil {
				return nil, err
			}
			// The signature is read back as a verifier would, against the
			// anchors the card is judged against.
			rep, err := jpki.VerifyCMS(content, cms, jpki.CMSOptions{Store: card.Trust(), Now: b.now()})
			if err != nil {
				return nil, err
			}
			out.Algorithm, out.CMS = "CMS detached SignedData (RSASSA-PKCS1-v1_5-SHA256)", cms
			cert = rep.Signer.Raw
			out.Summary = present.CertificateOf(rep.Signer)
			if chk, err := card.CertificateCheck(mynakit.CertSign, rep.Signer, b.now()); err == nil {
				out.Check = chk
			}
		} else {
			sig, c, err := card.SignDigest(ctx, h, q.Digest)
			if err != nil {
				return nil, err
			}
			out.Algorithm, out.Signature = "RSASSA-PKCS1-v1_5-"+strings.ReplaceAll(h.String(), "-", ""), sig
			cert = c.Raw
			out.Summary = present.CertificateOf(c)
			if chk, err := card.CertificateCheck(mynakit.CertSign, c, b.now()); err == nil {
				out.Check = chk
			}
		}
		out.Certificate = cert
		j, err := json.Marshal(out)
		return &result{json: j}, err
	})
	op.run = func(ctx context.Context, op *operation) (*result, error) {
		if doc != nil {
			defer doc.close()
		}
		return run(ctx, op)
	}
	// From here the operation owns the reservation and the document.
	reserved = false
	if !b.start(op) {
		b.unreserve(rd)
		if doc != nil {
			doc.close()
		}
		writeError(w, r, cancelledError(errClosed))
		return
	}
	b.respond(w, r, op, renderJSON)
}
