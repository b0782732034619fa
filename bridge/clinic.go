package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/oqs"
)

// ClinicOptions turns on the clinic mode: face results of the clinic's
// eligibility terminal (オンライン資格確認) are streamed on /v1/oqs/events,
// compared with the card read at the counter, and POST /v1/oqs/confirm asks
// the terminal about an insurance card.
type ClinicOptions struct {
	// Root is the terminal's shared folder (req, res, face).
	Root string
	// MedicalInstitutionCode is the clinic's 医療機関コード, needed for
	// confirmations (without it /v1/oqs/confirm answers 503).
	MedicalInstitutionCode string
	// StateDir keeps the confirmation jobs (see oqs.Config); required
	// with MedicalInstitutionCode.
	StateDir string
	// ScanInterval is how often the face folder is scanned (default 1s).
	ScanInterval time.Duration
	// ConfirmTimeout bounds a confirmation (default 3 minutes).
	ConfirmTimeout time.Duration
}

// cardFacts are the verified facts of the last genuine read of an origin,
// kept while that card is in the reader, for the match with a face result.
type cardFacts struct {
	reader *reader
	gen    uint64
	name   string
	birth  myna.Date
}

type clinic struct {
	b       *Bridge
	opts    ClinicOptions
	watcher *oqs.Watcher
	client  *oqs.Client          // nil without a 医療機関コード
	faces   *hub[oqs.FaceResult] // each stream renders them for its own origin

	mu sync.Mutex
	// folderErr: the face folder could not be read at the last report of
	// the watcher ("" while it can); told to each counter stream that opens.
	folderErr string
}

func newClinic(b *Bridge, opts ClinicOptions) (*clinic, error) {
	w, err := oqs.NewWatcher(oqs.WatchConfig{Root: opts.Root, Interval: opts.ScanInterval})
	if err != nil {
		return nil, err
	}
	c := &clinic{b: b, opts: opts, watcher: w, faces: newHub[oqs.FaceResult](32)}
	if opts.MedicalInstitutionCode != "" {
		state := opts.StateDir
		if state == "" {
			return nil, errors.New("bridge: clinic mode: a state folder is needed for confirmations")
		}
		cl, err := oqs.NewClient(oqs.Config{Root: opts.Root, StateDir: state, MedicalInstitutionCode: opts.MedicalInstitutionCode, Timeout: opts.ConfirmTimeout})
		if err != nil {
			return nil, err
		}
		c.client = cl
	}
	return c, nil
}

func (c *clinic) run(ctx context.Context) {
	defer c.b.wg.Done()
	for f := range c.watcher.Events(ctx) {
		if f.Name == "" && errors.Is(f.Err, oqs.ErrFaceFolder) {
			c.folderDown(f.Err)
			continue
		}
		c.folderUp()
		c.faces.broadcast(f)
	}
	c.faces.close()
}

// folderEventName is the counter's event about the face folder.
const folderEventName = "oqs-folder"

// folderDown records that the face folder cannot be listed (the watcher
// looks again at every scan): an access-log entry of its own, and an event
// for the counter. It is not a face result and reaches no face stream.
func (c *clinic) folderDown(cause error) {
	c.b.logger.Printf("clinic: %v", cause)
	_ = c.b.logged(accesslog.Entry{Action: string(ActionOQSFaceFolder)}, func(e *accesslog.Entry) error {
		e.Outcome = "error:oqs-folder"
		return nil
	})
	c.mu.Lock()
	c.folderErr = cause.Error()
	c.mu.Unlock()
	c.b.emit(c.b.self, folderEventName, folderUnreadable(cause.Error()))
}

// folderUp tells the counter that the face folder can be read again, at
// the first face result after an outage.
func (c *clinic) folderUp() {
	c.mu.Lock()
	was := c.folderErr
	c.folderErr = ""
	c.mu.Unlock()
	if was != "" {
		c.b.emit(c.b.self, folderEventName, folderJSON{Readable: true})
	}
}

// folderJSON is the counter's event about the face folder.
type folderJSON struct {
	Readable bool   `json:"readable"`
	Error    string `json:"error,omitempty"`
}

func folderUnreadable(cause string) folderJSON {
	return folderJSON{Error: "資格確認端末のフォルダを読めません。共有フォルダの接続を確かめてください the clinic terminal's folder cannot be read; check the shared folder: " + cause}
}

// folderEvent is the event a counter stream opens with while the face
// folder cannot be read.
func (c *clinic) folderEvent() (event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.folderErr == "" {
		return event{}, false
	}
	return mustEvent(folderEventName, folderUnreadable(c.folderErr)), true
}

// cardOf is the card origin read at the counter, while that card is in
// the reader; nil without one.
func (c *clinic) cardOf(origin string) *oqs.CardFacts {
	c.b.mu.Lock()
	facts, ok := c.b.lastFacts[origin]
	if ok && (facts.reader.gen != facts.gen || !facts.reader.present) {
		ok = false
	}
	c.b.mu.Unlock()
	if !ok {
		return nil
	}
	return &oqs.CardFacts{Name: facts.name, BirthDate: facts.birth.String()}
}

// render is a face result as the counter form of oqs.FaceReport, with the
// comparison with the card this origin read at the counter.
func (c *clinic) render(origin string, f oqs.FaceResult) []byte {
	b, _ := json.Marshal(oqs.FaceReport{Result: f, Card: c.cardOf(origin), Counter: true})
	return b
}

// granted says whether a principal may receive face results: the counter
// page, and principals paired for the clinic mode (POST /v1/pair with
// clinic: true).
func (c *clinic) granted(cl caller) bool {
	if cl.session {
		return true
	}
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.b.clinicOK[cl.principal]
}

// handleEvents streams face results (event "face") as they arrive, to the
// counter page and to principals paired for the clinic mode; each one
// handed out is recorded in the access log first.
func (c *clinic) handleEvents(w http.ResponseWriter, r *http.Request) {
	cl := callerOf(r)
	if !c.granted(cl) {
		writeError(w, r, newError(http.StatusForbidden, "clinic-not-paired", "資格確認の結果を受け取る登録がありません pair for the clinic mode first (POST /v1/pair with clinic: true)"))
		return
	}
	origin := cl.principal
	s, ok := c.faces.subscribe(origin)
	if !ok {
		writeError(w, r, cancelledError(errClosed))
		return
	}
	defer c.faces.unsubscribe(s)
	stream(c.b.ctx, w, r, s.ch, nil, func(f oqs.FaceResult) (event, bool) {
		if !c.granted(cl) {
			return event{}, false
		}
		err := c.b.logged(accesslog.Entry{Origin: origin, Action: string(ActionOQSFace), Data: dataNames([]Data{DataEligibility})}, func(e *accesslog.Entry) error {
			e.Outcome = "ok"
			return nil
		})
		if err != nil {
			return event{}, false
		}
		return event{name: "face", data: c.render(origin, f)}, true
	})
}

// ConfirmRequest is POST /v1/oqs/confirm: an insurance card's numbers.
type ConfirmRequest struct {
	Insurer             string `json:"insurer"`
	Symbol              string `json:"symbol,omitempty"`
	Number              string `json:"number"`
	Branch              string `json:"branch,omitempty"`
	Birth               string `json:"birth"`
	LimitConsent        bool   `json:"limit_consent,omitempty"`
	Date                string `json:"date,omitempty"`
	ArbitraryIdentifier string `json:"arbitrary_identifier,omitempty"`
}

func (q ConfirmRequest) request() oqs.Request {
	return oqs.Request{InsurerNumber: q.Insurer, InsuredCardSymbol: q.Symbol, InsuredIdentificationNumber: q.Number,
		InsuredBranchNumber: q.Branch, Birthdate: q.Birth, LimitConsent: q.LimitConsent, ArbitraryIdentifier: q.ArbitraryIdentifier, Date: q.Date}
}

// handleConfirm asks the terminal about an insurance card and waits for
// its answer; the request is recorded in the access log.
func (c *clinic) handleConfirm(w http.ResponseWriter, r *http.Request) {
	if c.client == nil {
		writeError(w, r, newError(http.StatusServiceUnavailable, "not-configured", "医療機関コードが設定されていません no 医療機関コード: start the bridge with --oqs-mic and --oqs-state"))
		return
	}
	var q ConfirmRequest
	if aerr := decodeBody(w, r, 16<<10, &q); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if strings.TrimSpace(q.Insurer) == "" || strings.TrimSpace(q.Number) == "" || strings.TrimSpace(q.Birth) == "" {
		writeError(w, r, newError(http.StatusBadRequest, "bad-request", "insurer, number, birth が必要です insurer, number and birth are required"))
		return
	}
	origin := callerOf(r).principal
	timeout := c.opts.ConfirmTimeout
	if timeout <= 0 {
		timeout = oqs.DefaultTimeout
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + 30*time.Second))
	ctx, cancel := context.WithTimeout(r.Context(), timeout+10*time.Second)
	defer cancel()
	var res *oqs.Result
	var aerr *apiError
	err := c.b.logged(accesslog.Entry{Origin: origin, Action: string(ActionOQSConfirm), Data: dataNames([]Data{DataEligibility})}, func(e *accesslog.Entry) error {
		var err error
		res, err = c.client.Confirm(ctx, q.request())
		e.Outcome = "error:oqs"
		switch {
		case err == nil:
			e.Outcome = string(res.Interpretation.Outcome)
		case errors.Is(err, oqs.ErrInvalidRequest):
			e.Outcome, aerr = "error:bad-request", newError(http.StatusBadRequest, "bad-request", "要求が正しくありません "+err.Error())
		case errors.Is(err, oqs.ErrTimeout):
			e.Outcome, aerr = "error:oqs-timeout", newError(http.StatusGatewayTimeout, "oqs-timeout", "資格確認端末から時間内に応答がありません no answer from the terminal in time; the request is kept and asking again waits for it")
		default:
			aerr = newError(http.StatusBadGateway, "oqs-error", "資格確認端末とのやりとりに失敗しました the eligibility terminal failed: "+err.Error())
		}
		return nil
	})
	if err != nil {
		ae, _ := c.b.apiErrorOf(nil, err)
		writeError(w, r, ae)
		return
	}
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	e := res.Eligibility()
	write(w, r, http.StatusOK, map[string]any{"job": res.Job.ID, "resumed": res.Resumed, "eligibility": e})
}
