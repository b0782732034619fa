package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/pin"
)

// errLog: the access record could not be written, so nothing is handed out.
var errLog = errors.New("the access log cannot be written")

// start registers op and runs it in its own goroutine; it reports false
// when the bridge is closing.
func (b *Bridge) start(op *operation) bool {
	b.mu.Lock()
	if b.ctx.Err() != nil {
		b.mu.Unlock()
		return false
	}
	b.ops[op.id] = op
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		res, err := op.run(op.ctx, op)
		var wrong *pin.WrongSecretError
		switch {
		case errors.As(err, &wrong):
			b.limiter.wrong(op.origin)
		case err == nil && op.wasAsked():
			b.limiter.right(op.origin)
		}
		aerr, cancelled := b.apiErrorOf(op, err)
		if aerr != nil {
			res = nil
		}
		op.finish(res, aerr, cancelled)
		b.publishOperation(op)
		b.retire(op)
	}()
	return true
}

// retire forgets a finished operation after ResultTTL.
func (b *Bridge) retire(op *operation) {
	time.AfterFunc(b.opts.ResultTTL, func() {
		b.mu.Lock()
		if b.ops[op.id] == op {
			delete(b.ops, op.id)
		}
		b.mu.Unlock()
		op.forget()
	})
}

// cardRun is the part of an operation that talks to the card.
type cardRun func(ctx context.Context, card *mynakit.Card, op *operation) (*result, error)

// onCard makes a card operation: it waits its turn at the reader, checks
// that the card is still the one it was asked for, writes the begin
// record, opens the card with the operation's prompter (the retry guard
// on, never the last try), runs fn, closes the card (which wipes the
// secrets), and writes the end record before the result is handed out.
func (b *Bridge) onCard(fn cardRun) func(ctx context.Context, op *operation) (*result, error) {
	return func(ctx context.Context, op *operation) (*result, error) {
		release, err := b.acquire(op)
		if err != nil {
			return nil, err
		}
		defer release()
		rd := op.reader
		b.mu.Lock()
		present, gen, cardID := rd.present, rd.gen, ""
		if rd.cardIDGen == op.gen {
			cardID = rd.cardID
		}
		b.mu.Unlock()
		if !present || gen != op.gen {
			return nil, errCardRemoved
		}
		op.set(stateRunning)
		b.publishOperation(op)
		// The begin record is written now and made durable by the end
		// record, or before a read's first fact leaves (see read): nothing
		// of the card is handed out before it is on disk.
		var res *result
		err = b.logged(accesslog.Entry{Origin: op.origin, Reader: rd.name, Action: string(op.action), Data: dataNames(op.data), Card: cardID}, func(e *accesslog.Entry) error {
			card, err := b.opts.Backend.Open(ctx, rd.name, mynakit.OpenOptions{
				Prompter:   b.prompt(op),
				CodeBFirst: op.codeBFirst,
				TrustDirs:  b.opts.TrustDirs,
				// The retry guard stays on: a wrong secret never blocks a key
				// through the bridge (AllowLastTry is never set).
			})
			if err == nil {
				if e.Card == "" {
					e.Card = b.learnCardID(ctx, card, op)
				}
				res, err = fn(ctx, card, op)
				card.Close()
			}
			e.Outcome = b.outcome(op, res, err)
			return err
		})
		if errors.Is(err, errLog) {
			return nil, err
		}
		return res, err
	}
}

// logged brackets work with a begin and an end record of one id in the
// access log. The begin record is written at once and made durable by the
// end record (or, for a read, before its first fact leaves); work fills in
// the end record's outcome, and the card's hash if it learnt it. When
// either record cannot be written the error is errLog, and the caller hands
// nothing out.
func (b *Bridge) logged(e accesslog.Entry, work func(end *accesslog.Entry) error) error {
	e.ID, e.Event = randomID()[:16], accesslog.Begin
	if _, err := b.opts.Log.Write(e); err != nil {
		b.logger.Printf("access log: %v", err)
		return errLog
	}
	err := work(&e)
	e.Event = accesslog.End
	if _, lerr := b.opts.Log.Append(e); lerr != nil {
		b.logger.Printf("access log: %v", lerr)
		return errLog
	}
	return err
}

// learnCardID reads the card's serial (the 共通AP record, which needs no
// secret) once per insertion, for the access log's card hash.
func (b *Bridge) learnCardID(ctx context.Context, card *mynakit.Card, op *operation) string {
	rep, err := card.Read(ctx, mynakit.ReadOptions{Parts: []mynakit.Part{mynakit.PartCommon}})
	if err != nil || rep.Common == nil || rep.Common.Serial == "" {
		return ""
	}
	id := b.opts.Log.CardID(rep.Common.Serial)
	b.mu.Lock()
	if op.reader.gen == op.gen {
		op.reader.cardID, op.reader.cardIDGen = id, op.gen
	}
	b.mu.Unlock()
	return id
}

// outcome is the access log's word for how an operation ended.
func (b *Bridge) outcome(op *operation, res *result, err error) string {
	if err == nil {
		if res != nil && res.verdict != "" {
			return res.verdict
		}
		return "ok"
	}
	aerr, cancelled := b.apiErrorOf(op, err)
	switch {
	case cancelled:
		return "cancelled"
	case aerr.Code == "denied":
		return "denied"
	}
	return "error:" + aerr.Code
}

// apiErrorOf turns an operation's error into the API's, and says whether
// the operation was cancelled rather than failed.
func (b *Bridge) apiErrorOf(op *operation, err error) (*apiError, bool) {
	if err == nil {
		return nil, false
	}
	if errors.Is(err, context.Canceled) && op != nil {
		if cause := context.Cause(op.ctx); cause != nil && cause != context.Canceled {
			err = cause
		}
	}
	var ae *apiError
	var wrong *pin.WrongSecretError
	var wb *pin.WouldBlockError
	var inv *pin.InvalidSecretError
	var rl *rateLimitedError
	switch {
	case errors.As(err, &ae):
		return ae, false
	case errors.Is(err, errQueueFull):
		e := newError(http.StatusTooManyRequests, "busy", "リーダーが混んでいます the reader's queue is full; try again shortly")
		e.RetryAfter = 1
		return e, false
	case errors.Is(err, errWaitingConsent):
		e := newError(http.StatusConflict, "waiting-for-consent", "リーダーは別の依頼への同意を待っています。しばらくして再度お試しください the reader is waiting for the holder's consent to another request; try again shortly")
		e.RetryAfter = 5
		return e, false
	case errors.Is(err, errQueueTimeout):
		e := newError(http.StatusServiceUnavailable, "queue-timeout", "リーダーの順番を待ちきれませんでした waited too long for the reader")
		e.RetryAfter = 5
		return e, false
	case errors.Is(err, errCardRemoved), errors.Is(err, apdu.ErrCardRemoved):
		return cancelledError(errCardRemoved), true
	case errors.Is(err, errCancelledByCaller):
		return cancelledError(err), true
	case errors.Is(err, errClosed), errors.Is(err, errForgotten):
		return cancelledError(errClosed), true
	case errors.Is(err, errDenied):
		return newError(http.StatusForbidden, "denied", "カードの持ち主が断りました the holder declined"), false
	case errors.Is(err, errConsentTimeout):
		return newError(http.StatusRequestTimeout, "consent-timeout", "同意画面で時間切れになりました no answer on the consent page in time"), false
	case errors.As(err, &rl):
		e := newError(http.StatusTooManyRequests, "rate-limited", "暗証番号の誤りが続いたため、しばらく待ってください wrong secrets from this origin: wait before trying again")
		e.RetryAfter = int(rl.wait/time.Second) + 1
		return e, false
	case errors.As(err, &wrong):
		n := wrong.Remaining
		e := newError(http.StatusUnprocessableEntity, "wrong-secret", fmt.Sprintf("暗証番号が違います。残り%d回 wrong secret: %d tries left", n, n))
		e.Remaining = &n
		if n == 0 {
			e.Code, e.Status = "blocked", http.StatusLocked
			e.Message = "暗証番号がロックされました。市区町村の窓口で解除してください the key is now blocked: only the municipality can unblock it"
		}
		return e, false
	case errors.As(err, &wb):
		n := wb.Remaining
		e := newError(http.StatusLocked, "would-block", "残り1回のため、ブリッジからは照合しません one try left: the bridge never spends the last try; use the municipality's counter or a card application")
		e.Remaining = &n
		return e, false
	case errors.Is(err, pin.ErrKeyBlocked):
		return newError(http.StatusLocked, "blocked", "暗証番号がロックされています。市区町村の窓口で解除してください the key is blocked: only the municipality can unblock it"), false
	case errors.As(err, &inv):
		return newError(http.StatusUnprocessableEntity, "invalid-secret", "入力の形式が違います the value typed has the wrong form: "+inv.Reason), false
	case errors.Is(err, pin.ErrNoSecret):
		return newError(http.StatusUnprocessableEntity, "no-secret", "必要な暗証番号を受け取れませんでした the card needs a secret that was not given"), false
	case errors.Is(err, errLog):
		return newError(http.StatusInternalServerError, "log-unavailable", "アクセス記録を書けないため中止しました the access log cannot be written, so nothing is handed out"), false
	case errors.Is(err, errNoCard), errors.Is(err, mynakit.ErrNoCard):
		return newError(http.StatusConflict, "no-card", "カードがありません no card in the reader"), false
	case errors.Is(err, mynakit.ErrReaderNotFound), errors.Is(err, apdu.ErrReaderGone):
		return newError(http.StatusBadGateway, "reader-gone", "リーダーが見つかりません the reader went away"), false
	case errors.Is(err, mynakit.ErrChallenge):
		return newError(http.StatusBadRequest, "bad-request", err.Error()), false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return cancelledError(errCancelledByCaller), true
	}
	return newError(http.StatusBadGateway, "card-error", "カードまたはリーダーとの通信に失敗しました the card or the reader failed: "+err.Error()), false
}

var errCancelledByCaller = errors.New("the caller cancelled the operation")

func cancelledError(cause error) *apiError {
	switch {
	case errors.Is(cause, errCardRemoved):
		return newError(http.StatusConflict, "card-removed", "カードが抜かれました the card was removed")
	case errors.Is(cause, errClosed):
		return newError(http.StatusServiceUnavailable, "shutting-down", "ブリッジが停止します the bridge is shutting down")
	}
	return newError(http.StatusConflict, "cancelled", "取り消されました the operation was cancelled")
}
