package bridge

import (
	"encoding/json"
	"net/http"
	"time"
)

// opJSON is an operation as GET /v1/operations/{id} and the events show
// it; withResult adds the result of a finished operation (for a read, the
// Report's JSON as it is).
func (b *Bridge) opJSON(op *operation, withResult bool) map[string]any {
	state, a, res, aerr, _ := op.view()
	v := map[string]any{
		"id": op.id, "action": op.action, "state": state, "origin": op.origin,
		"created": op.created.UTC().Format(time.RFC3339),
	}
	links := map[string]string{"self": "/v1/operations/" + op.id}
	if op.action != ActionPair && op.action != ActionStatus {
		links["result"] = "/v1/operations/" + op.id + "/result"
	}
	if op.action == ActionRead {
		links["photo"] = "/v1/operations/" + op.id + "/photo"
		links["face_name"] = "/v1/operations/" + op.id + "/face/name"
		links["face_address"] = "/v1/operations/" + op.id + "/face/address"
	}
	v["links"] = links
	if op.reader != nil {
		v["reader"] = op.reader.name
		if state == stateQueued && b.holderAsks(op.reader) {
			v["waiting_for"] = "consent"
		}
	}
	if len(op.data) > 0 {
		v["data"] = op.data
	}
	if state == stateConsent && a != nil {
		if b.opts.Consent == nil {
			v["consent"] = "page"
			v["consent_url"] = b.self + "/consent/" + op.id
		} else {
			v["consent"] = "terminal"
		}
		if !a.pair {
			v["secret"] = map[string]any{"kind": secretName(a.req.Kind), "label": secretLabel(a.req.Kind), "remaining": a.req.Remaining, "retry": a.req.Retry}
		}
	}
	if aerr != nil {
		v["error"] = aerr
	}
	if withResult && state == stateDone && res != nil && res.json != nil {
		v["result"] = json.RawMessage(res.json)
	}
	return v
}

// findOp returns the operation with id, if the bridge still has it.
func (b *Bridge) findOp(id string) *operation {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ops[id]
}

// ownOp finds the caller's operation: a paired caller of its principal,
// or — for a pairing only — the web origin that asked, which has no token
// yet.
func (b *Bridge) ownOp(w http.ResponseWriter, r *http.Request) *operation {
	c := callerOf(r)
	op := b.findOp(r.PathValue("id"))
	if op == nil || op.origin != c.principal || c.principal == "" || c.crossSite || (!c.paired && op.action != ActionPair) {
		if op != nil && !c.paired && op.action != ActionPair {
			writeError(w, r, newError(http.StatusUnauthorized, "unauthorized", "トークンが必要です a token is needed (pair first)"))
			return nil
		}
		writeError(w, r, newError(http.StatusNotFound, "not-found", "操作が見つかりません no such operation (finished ones are kept for a short time)"))
		return nil
	}
	return op
}

// handleOperation reports an operation's state and, once done, its result.
// A pairing's token is handed out here, once.
func (b *Bridge) handleOperation(w http.ResponseWriter, r *http.Request) {
	op := b.ownOp(w, r)
	if op == nil {
		return
	}
	v := b.opJSON(op, true)
	if op.action == ActionPair {
		op.mu.Lock()
		if op.res != nil && op.res.pairToken != "" {
			v["token"] = op.res.pairToken
			op.res.pairToken = ""
		} else if op.state == stateDone {
			v["token_collected"] = true
		}
		op.mu.Unlock()
	}
	write(w, r, http.StatusOK, v)
}

// handleCancel cancels an operation (and closes its consent page). The
// counter page may cancel any operation that waits for the holder.
func (b *Bridge) handleCancel(w http.ResponseWriter, r *http.Request) {
	var op *operation
	if c := callerOf(r); c.session {
		if op = b.findOp(r.PathValue("id")); op == nil {
			writeError(w, r, newError(http.StatusNotFound, "not-found", "操作が見つかりません no such operation"))
			return
		}
	} else if op = b.ownOp(w, r); op == nil {
		return
	}
	op.cancel(errCancelledByCaller)
	op.wait(r.Context(), opState.finished)
	write(w, r, http.StatusOK, b.opJSON(op, false))
}

// handleResult answers with a finished operation's result as its route
// would have: the JSON (for a read, the Report's JSON), or the picture.
func (b *Bridge) handleResult(w http.ResponseWriter, r *http.Request) {
	op := b.ownOp(w, r)
	if op == nil {
		return
	}
	state, _, res, aerr, _ := op.view()
	switch {
	case !state.finished():
		w.Header().Set("Location", "/v1/operations/"+op.id)
		writeError(w, r, newError(http.StatusConflict, "not-finished", "まだ終わっていません the operation has not finished (state "+string(state)+")"))
	case aerr != nil:
		writeError(w, r, aerr)
	case res == nil:
		writeError(w, r, newError(http.StatusGone, "gone", "結果は破棄されました the result was discarded"))
	case res.png != nil:
		renderPNG(w, r, res)
	case res.json != nil:
		renderJSON(w, r, res)
	default:
		writeError(w, r, newError(http.StatusNotFound, "no-result", "この操作に結果はありません the operation has no result"))
	}
}

// handleOpPhoto serves a read's photo as PNG, as soon as the card face's
// signature verified (before the read is over), while the card is in.
func (b *Bridge) handleOpPhoto(w http.ResponseWriter, r *http.Request) {
	op := b.ownOp(w, r)
	if op == nil {
		return
	}
	op.mu.Lock()
	png := op.photoEarly
	if op.res != nil && op.res.photo != nil {
		png = op.res.photo
	}
	op.mu.Unlock()
	if png == nil {
		writeError(w, r, newError(http.StatusNotFound, "no-photo", "写真はありません（読み取っていないか、署名を確認できません） no photo: not read, or its signature did not verify"))
		return
	}
	w.Header().Set("Content-Type", mediaPNG)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(png)
}

// handleOpFace serves a read's card-face name or address image (DF25,
// DF26) exactly as the card stores it, a PNG the bridge never decodes,
// only when the card-face signature that covers it verified (card
// reference §5.7); otherwise it is the not-genuine error.
func (b *Bridge) handleOpFace(w http.ResponseWriter, r *http.Request) {
	op := b.ownOp(w, r)
	if op == nil {
		return
	}
	part := r.PathValue("part")
	if part != "name" && part != "address" {
		writeError(w, r, newError(http.StatusNotFound, "not-found", "券面画像は name か address です the card-face image is name or address"))
		return
	}
	op.mu.Lock()
	var img []byte
	verified, read := false, op.faceImages != nil
	if read {
		verified = op.faceImages.verified
		img = op.faceImages.name
		if part == "address" {
			img = op.faceImages.address
		}
	}
	op.mu.Unlock()
	switch {
	case !read || (verified && len(img) == 0):
		writeError(w, r, newError(http.StatusNotFound, "no-face-image", "券面画像はありません（読み取っていません） no card-face image: the card face was not read"))
		return
	case !verified:
		writeError(w, r, notGenuine("券面画像の署名を確認できません the card-face signature over the name and address images did not verify"))
		return
	}
	w.Header().Set("Content-Type", mediaPNG)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(img)
}
