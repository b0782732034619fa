package oqs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit/internal/atomicfile"
)

// Folder names under the share root.
const (
	DirRequests = "req"
	DirResults  = "res"
	DirFace     = "face"
	// DirTrash is where one EMR moves files it consumed; results and face
	// files are also looked for there.
	DirTrash = "trash"
)

// Defaults for Config.
const (
	DefaultPollInterval = 300 * time.Millisecond
	DefaultTimeout      = 3 * time.Minute
)

// Config sets up a Client.
type Config struct {
	// Root is the terminal's shared folder holding req, res and face
	// (a mounted share or a UNC path).
	Root string
	// StateDir is a local directory for jobs and the request sequence. It
	// must survive restarts: it is what prevents duplicate submissions.
	StateDir string
	// MedicalInstitutionCode is the clinic's 10-digit 医療機関コード.
	MedicalInstitutionCode string
	// RequestEncoding is the encoding requests are written in; the zero
	// value is Shift_JIS, the most common choice.
	RequestEncoding Encoding
	// PollInterval is how often res is looked at (default 300ms).
	PollInterval time.Duration
	// Timeout is how long one call waits for a result (default 3 minutes).
	// The job stays pending after it.
	Timeout time.Duration
	// MaxFileSize caps result files (default 1 MiB).
	MaxFileSize int
	// FileTimeout bounds each file operation on the share (default
	// DefaultFileTimeout): a hung share ends in an error, never a hang.
	FileTimeout time.Duration
	// AlsoLookIn lists folders, relative to Root or absolute, where a
	// result may have been moved by another program (default: trash).
	AlsoLookIn []string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Client publishes requests into req and reads their results from res.
// Every request is a Job saved in StateDir before it is published; a call
// that times out leaves its job pending, and asking the same question again
// (or Resume) goes on waiting for that job's result instead of sending a
// second request. A Client is safe for concurrent use.
type Client struct {
	cfg   Config
	store store
	mu    sync.Mutex // serializes finding and creating jobs
}

// NewClient checks cfg and prepares the state directory.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Root == "" {
		return nil, errors.New("oqs: Config.Root is required")
	}
	if cfg.StateDir == "" {
		return nil, errors.New("oqs: Config.StateDir is required")
	}
	if err := checkMIC(cfg.MedicalInstitutionCode); err != nil {
		return nil, err
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = DefaultMaxFileSize
	}
	if cfg.FileTimeout <= 0 {
		cfg.FileTimeout = DefaultFileTimeout
	}
	if cfg.AlsoLookIn == nil {
		cfg.AlsoLookIn = []string{DirTrash}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, d := range []string{DirRequests, DirResults} {
		if err := isDir(context.Background(), cfg.FileTimeout, filepath.Join(cfg.Root, d)); err != nil {
			return nil, fmt.Errorf("oqs: %s is not a terminal share: no %s folder: %w", cfg.Root, d, err)
		}
	}
	c := &Client{cfg: cfg, store: store{dir: cfg.StateDir}}
	if err := c.store.init(); err != nil {
		return nil, err
	}
	return c, nil
}

// Result is the answer to a Confirm.
type Result struct {
	Job Job
	// Resumed is true when the request had been published by an earlier
	// call and this one only waited for its result.
	Resumed bool
	// Path is where the result was read (in res, or a folder it was moved to).
	Path string
	// Raw is a private copy of the result's bytes.
	Raw            []byte
	Message        *ConfirmResult
	Interpretation Interpretation
}

// Eligibility is the result put plainly.
func (r *Result) Eligibility() Eligibility { return Summarize(r.Message, KindConfirmResult) }

var (
	// ErrTimeout is matched by a *TimeoutError.
	ErrTimeout = errors.New("oqs: no result in time")
	// ErrMismatch is matched by a *MismatchError.
	ErrMismatch = errors.New("oqs: result does not belong to the request")
	// ErrNameTaken is returned when a job's name is already used on the
	// share (its request or result exists) so it cannot be published.
	ErrNameTaken = errors.New("oqs: request name already used on the share")
	// ErrJobAbandoned is returned when resuming an abandoned job.
	ErrJobAbandoned = errors.New("oqs: job was abandoned")
)

// TimeoutError says a result did not come in time. The job is still
// pending: calling Confirm with the same request, or Resume with the job's
// ID, waits for the same result; nothing is sent again.
type TimeoutError struct {
	Job    Job
	Waited time.Duration
	// Last is the last problem met while waiting (for example a result
	// file still malformed), or nil when no result appeared.
	Last error
}

func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("oqs: no result for %s after %s; the request stays pending and is not sent again: run the same request again (or resume job %s) to keep waiting",
		e.Job.ID, e.Waited.Round(time.Millisecond), e.Job.ID)
	if e.Last != nil {
		s += " (last problem: " + e.Last.Error() + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Unwrap returns the last problem met.
func (e *TimeoutError) Unwrap() error { return e.Last }

// MismatchError says a file at the result's name is not the answer to the
// request: its 医療機関コード or ArbitraryFileIdentifier differs.
type MismatchError struct {
	Path, Field, Want, Got string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("oqs: %s: %s is %q, the request had %q; the file is left for a person to look at", e.Path, e.Field, e.Got, e.Want)
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

func (c *Client) path(dir, name string) string { return filepath.Join(c.cfg.Root, dir, name) }

// resultPaths are where a job's result may be: res first, then the
// folders results get moved to.
func (c *Client) resultPaths(name string) []string {
	out := []string{c.path(DirResults, name)}
	for _, d := range c.cfg.AlsoLookIn {
		if !filepath.IsAbs(d) {
			d = filepath.Join(c.cfg.Root, d)
		}
		out = append(out, filepath.Join(d, name))
	}
	return out
}

// taken reports whether a request name is in use on the share.
func (c *Client) taken(name string) (bool, error) {
	res, err := ResultName(name)
	if err != nil {
		return false, err
	}
	for _, p := range append([]string{c.path(DirRequests, name)}, c.resultPaths(res)...) {
		if ok, err := exists(context.Background(), c.cfg.FileTimeout, p); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// Confirm asks whether the patient's insurance is valid and waits for the
// answer. When a job asking the same question is pending (an earlier call
// timed out or was interrupted), Confirm waits for that job's result and
// sends nothing.
func (c *Client) Confirm(ctx context.Context, req Request) (*Result, error) {
	now := c.cfg.Now()
	nr, err := req.normalized(now)
	if err != nil {
		return nil, err
	}
	job, resumed, err := c.confirmJob(nr, now)
	if err != nil {
		return nil, err
	}
	return c.run(ctx, job, resumed)
}

func (c *Client) confirmJob(nr Request, now time.Time) (*Job, bool, error) {
	mic := c.cfg.MedicalInstitutionCode
	key := nr.key(mic)
	c.mu.Lock()
	defer c.mu.Unlock()
	if j, err := c.store.pending(key); err != nil || j != nil {
		return j, true, err
	}
	fid := NewFileIdentifier(now)
	doc, err := NewConfirmRequest(mic, fid, nr, now)
	if err != nil {
		return nil, false, err
	}
	data, err := doc.Encode(c.cfg.RequestEncoding)
	if err != nil {
		return nil, false, err
	}
	j := &Job{Kind: KindConfirmRequest.String(), State: JobPrepared, Key: key, MedicalInstitutionCode: mic,
		FileIdentifier: fid, Request: &nr, Encoding: c.cfg.RequestEncoding.String(), Created: now}
	if err := c.store.reserve(j, PrefixConfirmRequest, now, data, c.taken); err != nil {
		return nil, false, err
	}
	return j, false, nil
}

// Resume waits for the result of the job with this ID (the request's file
// name). An answered job returns its saved result at once.
func (c *Client) Resume(ctx context.Context, jobID string) (*Result, error) {
	j, err := c.store.load(jobID)
	if err != nil {
		return nil, err
	}
	return c.run(ctx, j, true)
}

// Jobs lists every job in the state directory, oldest first.
func (c *Client) Jobs() ([]Job, error) {
	all, err := c.store.all()
	if err != nil {
		return nil, err
	}
	out := make([]Job, len(all))
	for i, j := range all {
		out[i] = *j
	}
	return out, nil
}

// AbandonPending gives up every pending job that asks what req asks (the
// same patient, insurer and day; see SameQuestion), recording why, so that
// a new request for it can be sent.
func (c *Client) AbandonPending(req Request, why string) error {
	jobs, err := c.Jobs()
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.State.Pending() && j.Request != nil && c.SameQuestion(*j.Request, req) {
			if err := c.Abandon(j.ID, why); err != nil {
				return err
			}
		}
	}
	return nil
}

// Abandon gives up a pending job, so the same question may be asked anew.
// Only a person should decide this: the terminal may still answer the old
// request, whose result is then ignored.
func (c *Client) Abandon(jobID, why string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	j, err := c.store.load(jobID)
	if err != nil {
		return err
	}
	if !j.State.Pending() {
		return fmt.Errorf("oqs: job %s is %s, not pending", j.ID, j.State)
	}
	j.State = JobAbandoned
	j.Note = strings.TrimSpace("abandoned: " + why)
	return c.store.save(j)
}

func (c *Client) run(ctx context.Context, j *Job, resumed bool) (*Result, error) {
	switch j.State {
	case JobAbandoned:
		return nil, fmt.Errorf("%w: %s (%s)", ErrJobAbandoned, j.ID, j.Note)
	case JobAnswered:
		raw, err := os.ReadFile(c.store.resultPath(j.ResultName))
		if err != nil {
			return nil, fmt.Errorf("saved result of %s: %w", j.ID, err)
		}
		return c.finish(j, true, c.store.resultPath(j.ResultName), raw)
	case JobPrepared:
		if err := c.publish(ctx, j); err != nil {
			return nil, err
		}
	}
	raw, path, err := c.wait(ctx, j, confirmHeader)
	if err != nil {
		return nil, err
	}
	return c.finish(j, resumed, path, raw)
}

func confirmHeader(b []byte) (*ResultHeader, error) {
	r, err := ParseConfirmResult(b)
	if err != nil {
		return nil, err
	}
	return &r.Header, nil
}

func (c *Client) finish(j *Job, resumed bool, path string, raw []byte) (*Result, error) {
	msg, err := ParseConfirmResult(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if j.State != JobAnswered {
		if err := atomicfile.WriteFile(c.store.resultPath(j.ResultName), raw, atomicfile.Private); err != nil {
			return nil, fmt.Errorf("keep a copy of %s: %w", j.ResultName, err)
		}
		j.State = JobAnswered
		j.Answered = c.cfg.Now()
		if err := c.store.save(j); err != nil {
			return nil, err
		}
	}
	return &Result{Job: *j, Resumed: resumed, Path: path, Raw: raw, Message: msg, Interpretation: Interpret(msg)}, nil
}

// publish puts the job's request into req: written to a temporary file
// with an unpredictable name, created exclusively and never through a
// link (atomicfile.Publish), flushed to disk, then renamed, so the
// terminal never sees a partial file and nothing planted in req is written
// through. The job is marked publishing before the rename: if anything
// fails from there on it is never published again.
func (c *Client) publish(ctx context.Context, j *Job) error {
	if t, err := c.taken(j.ID); err != nil {
		return err
	} else if t {
		j.State = JobAbandoned
		j.Note = "refused: the name was already used on the share"
		_ = c.store.save(j)
		return fmt.Errorf("%w: %s", ErrNameTaken, j.ID)
	}
	dir := filepath.Join(c.cfg.Root, DirRequests)
	j.State = JobPublishing
	if err := c.store.save(j); err != nil {
		return err
	}
	_, err := fileOp(ctx, c.cfg.FileTimeout, "publish", filepath.Join(dir, j.ID), func() (struct{}, error) {
		return struct{}{}, atomicfile.Publish(dir, j.ID, j.RequestFile, 0o644)
	})
	if err != nil {
		return fmt.Errorf("publish %s (the job stays pending and is not sent again): %w", j.ID, err)
	}
	j.State = JobPublished
	j.Published = c.cfg.Now()
	return c.store.save(j)
}

// wait polls for the exact result name (file-system notifications are not
// reliable on SMB shares) and returns the bytes once two reads in a row are
// identical and parse as a result that belongs to the job.
func (c *Client) wait(ctx context.Context, j *Job, header func([]byte) (*ResultHeader, error)) ([]byte, string, error) {
	start := time.Now()
	// Every file operation ends by the deadline too: a hung share or a
	// FIFO at the result's name ends in the timeout, not a hang.
	wctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	tick := time.NewTicker(c.cfg.PollInterval)
	defer tick.Stop()
	paths := c.resultPaths(j.ResultName)
	var prev []byte
	var last error
	for {
		b, path, err := readFirst(wctx, c.cfg.FileTimeout, paths, c.cfg.MaxFileSize)
		switch {
		case err == nil:
			if prev != nil && bytes.Equal(prev, b) {
				h, perr := header(b)
				if perr == nil {
					if verr := verifyResult(path, j, h); verr != nil {
						return nil, path, verr
					}
					return b, path, nil
				}
				last = fmt.Errorf("%s: %w", path, perr)
			}
			prev = b
		case errors.Is(err, fs.ErrNotExist):
		case wctx.Err() != nil:
		default:
			last = err
		}
		select {
		case <-ctx.Done():
			return nil, "", fmt.Errorf("waiting for %s (the job stays pending): %w", j.ResultName, ctx.Err())
		case <-wctx.Done():
			if ctx.Err() != nil {
				return nil, "", fmt.Errorf("waiting for %s (the job stays pending): %w", j.ResultName, ctx.Err())
			}
			return nil, "", &TimeoutError{Job: *j, Waited: time.Since(start), Last: last}
		case <-tick.C:
		}
	}
}

// verifyResult checks that the result answers this job.
func verifyResult(path string, j *Job, h *ResultHeader) error {
	if got := strings.TrimSpace(h.MedicalInstitutionCode); got != j.MedicalInstitutionCode {
		return &MismatchError{Path: path, Field: "MedicalInstitutionCode", Want: j.MedicalInstitutionCode, Got: got}
	}
	if got := strings.TrimSpace(h.ArbitraryFileIdentifier); got != j.FileIdentifier {
		return &MismatchError{Path: path, Field: "ArbitraryFileIdentifier", Want: j.FileIdentifier, Got: got}
	}
	return nil
}

// SameQuestion reports whether two requests ask the same thing of this
// client's terminal (so one would resume the other's job).
func (c *Client) SameQuestion(a, b Request) bool {
	now := c.cfg.Now()
	na, err1 := a.normalized(now)
	nb, err2 := b.normalized(now)
	return err1 == nil && err2 == nil && na.key(c.cfg.MedicalInstitutionCode) == nb.key(c.cfg.MedicalInstitutionCode)
}

// Register binds a 照会番号 (for example the chart number) to a patient's
// insurance-card data (照会番号登録, OQSsiimm01req_), so that the patient's
// face results carry it. Like Confirm it saves a job first, never resends,
// and a repeated call with the same registration waits for the pending one.
func (c *Client) Register(ctx context.Context, g Registration) (*RegistrationResult, Job, error) {
	now := c.cfg.Now()
	mic := c.cfg.MedicalInstitutionCode
	fid := NewFileIdentifier(now)
	doc, err := NewRegistrationRequest(mic, fid, g)
	if err != nil {
		return nil, Job{}, err
	}
	in := doc.Body.Info
	key := strings.Join([]string{"register", mic, in.ReferenceNumber, TrimInsurer(in.InsurerNumber), in.InsuredCardSymbol,
		in.InsuredIdentificationNumber, in.InsuredBranchNumber}, "\x1f")
	c.mu.Lock()
	j, err := c.store.pending(key)
	if err == nil && j == nil {
		var data []byte
		if data, err = doc.Encode(c.cfg.RequestEncoding); err == nil {
			j = &Job{Kind: KindRegistrationRequest.String(), State: JobPrepared, Key: key, MedicalInstitutionCode: mic,
				FileIdentifier: fid, Registration: &g, Encoding: c.cfg.RequestEncoding.String(), Created: now}
			err = c.store.reserve(j, PrefixRegistrationRequest, now, data, c.taken)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return nil, Job{}, err
	}
	if j.State == JobPrepared {
		if err := c.publish(ctx, j); err != nil {
			return nil, *j, err
		}
	}
	var raw []byte
	if j.State == JobAnswered {
		raw, err = os.ReadFile(c.store.resultPath(j.ResultName))
	} else {
		raw, _, err = c.wait(ctx, j, func(b []byte) (*ResultHeader, error) {
			r, err := ParseRegistrationResult(b)
			if err != nil {
				return nil, err
			}
			return &r.Header, nil
		})
	}
	if err != nil {
		return nil, *j, err
	}
	r, err := ParseRegistrationResult(raw)
	if err != nil {
		return nil, *j, err
	}
	if j.State != JobAnswered {
		if err := atomicfile.WriteFile(c.store.resultPath(j.ResultName), raw, atomicfile.Private); err != nil {
			return nil, *j, err
		}
		j.State, j.Answered = JobAnswered, c.cfg.Now()
		if err := c.store.save(j); err != nil {
			return nil, *j, err
		}
	}
	return r, *j, nil
}
