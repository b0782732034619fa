package bridge

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/webeid"
)

// --- POST /v1/readers/{reader}/authenticate (Web eID 1.0) ---

// AuthenticateRequest is the body of POST /authenticate: the relying
// party's challenge nonce, as web-eid.js passes it. The origin the token is
// bound to is never part of the request: it is the origin the bridge
// verified for the caller (see webeidOrigin).
type AuthenticateRequest struct {
	// ChallengeNonce is the server's nonce as issued (base64, at least 256
	// bits); it is signed in that text form.
	ChallengeNonce string `json:"challengeNonce"`
}

// webeidAlgorithm is the algorithm the bridge's tokens are made with.
// Today's card has an RSA-2048 key that signs PKCS#1 v1.5 over SHA-256:
// RS256. The next-generation card's ECDSA key will need another value
// here and in webeid.Authenticate; the route and the consent page take it
// as a parameter.
const webeidAlgorithm = webeid.RS256

// webeidOrigin is the origin a caller's token is bound to: the web origin
// the bridge checked (the Origin header, matched against the allowed
// origins and the principal's token), or the bridge's own for the counter
// page. A local application has no web origin the bridge could vouch for:
// it makes tokens with webeid.Authenticate directly, naming the origin
// under its own responsibility, not through the bridge.
func (b *Bridge) webeidOrigin(c caller) (string, *apiError) {
	if isApp(c.principal) || c.origin == "" || c.origin != c.principal {
		return "", newError(http.StatusForbidden, "no-origin", "ブラウザのページからの依頼ではないため、ログイン先のオリジンを確かめられません the bridge binds a login token to the calling page's verified origin; a local application has none (use mynakit authenticate --origin)")
	}
	o, err := webeid.CanonicalOrigin(c.origin)
	if err != nil {
		return "", newError(http.StatusForbidden, "no-origin", "このオリジンにはログイン用の署名を作れません（https が必要です） a login token needs an https origin (http only on loopback): "+c.origin)
	}
	return o, nil
}

// authenticateWebEID makes a Web eID 1.0 token: the card's authentication
// key signs hash(origin) ‖ hash(challengeNonce) for the caller's verified
// origin, after the holder saw on the consent page which origin logs in
// and typed the PIN.
func (b *Bridge) authenticateWebEID(w http.ResponseWriter, r *http.Request) {
	var q AuthenticateRequest
	if aerr := decodeBody(w, r, maxJSONBody, &q); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if err := webeid.CheckNonce(q.ChallengeNonce); err != nil {
		writeError(w, r, newError(http.StatusBadRequest, "bad-nonce", "challengeNonce は256ビット以上の乱数（base64）です the challengeNonce must be base64 of at least 256 random bits: "+err.Error()))
		return
	}
	c := callerOf(r)
	origin, aerr := b.webeidOrigin(c)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	rd, gen, ok := b.cardFor(w, r)
	if !ok {
		return
	}
	h, _ := webeidAlgorithm.Hash()
	signed := webeid.SignedValue(h, origin, q.ChallengeNonce)
	sum := sha256.Sum256(signed)
	data := []Data{DataAuthKey, DataAuthCertificate}
	op := newOperation(b.ctx, c.principal, ActionAuthenticate, rd, gen, data, purpose{
		What:      origin + " にログインします（利用者証明用電子証明書） log in to " + origin + " with the user-authentication certificate",
		Items:     describeData(data),
		Digest:    hex.EncodeToString(sum[:]),
		DigestAlg: crypto.SHA256.String(),
		Note:      "ログイン先: " + origin + " — この署名はこのサイトへのログインにだけ使えます。心当たりがなければ断ってください。 Logging in to: " + origin + " — the signature is bound to this site and logs in there only. Decline if you did not ask to log in.",
	}, b.now())
	nonce := q.ChallengeNonce
	op.run = b.onCard(func(ctx context.Context, card *mynakit.Card, op *operation) (*result, error) {
		tok, err := webeid.Authenticate(ctx, card, origin, nonce)
		if err != nil {
			if errors.Is(err, webeid.ErrNonce) || errors.Is(err, webeid.ErrOrigin) {
				return nil, newError(http.StatusBadRequest, "bad-nonce", err.Error())
			}
			return nil, err
		}
		if tok.Algorithm != webeidAlgorithm {
			return nil, errors.New("the card signed with " + string(tok.Algorithm) + ", not " + string(webeidAlgorithm))
		}
		j, err := json.Marshal(tok)
		return &result{json: j}, err
	})
	b.launch(w, r, op, renderJSON)
}

// WebEIDClient is the JavaScript client (web/webeid.js) the bridge serves
// at /static/webeid.js. A relying party should serve this copy from its
// own origin: when the browser's Local Network Access permission is
// denied, a script on the loopback bridge cannot even load, and the client
// is what explains the denial to the user.
func WebEIDClient() []byte {
	js, err := webFS.ReadFile("web/webeid.js")
	if err != nil {
		panic(err)
	}
	return js
}
