package oqs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mynakit/mynakit/internal/atomicfile"
)

// DefaultScanInterval is how often the face folder is scanned.
const DefaultScanInterval = time.Second

// WatchConfig sets up a Watcher.
type WatchConfig struct {
	// Root is the terminal's shared folder; face results are in Root/face.
	Root string
	// AlsoLookIn lists folders, relative to Root or absolute, where other
	// programs move face files (default: trash). They are scanned too, so a
	// file moved away before or while it was read is still reported.
	AlsoLookIn []string
	// Interval between scans (default one second).
	Interval time.Duration
	// MaxFileSize caps face files (default 1 MiB).
	MaxFileSize int
	// FileTimeout bounds each file operation on the share (default
	// DefaultFileTimeout).
	FileTimeout time.Duration
	// CopyDir, when set, receives a private copy of every file reported.
	CopyDir string
	// AllDays takes files of any date; by default only today's are taken,
	// judged by the timestamp at the end of the name.
	AllDays bool
	// Settle is how long a file that does not parse (it may be incomplete,
	// its writer stalled) must stay unchanged, or a partial file stay gone,
	// before it is reported as an error (default 10s).
	Settle time.Duration
	// Location is the time zone of the timestamps in names (default Local).
	Location *time.Location
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// FaceResult is one file the terminal dropped into face after a card was
// presented at the face-recognition reader — or, with an empty Name and an
// Err matching ErrFaceFolder, the news that the face folder itself cannot
// be read (gone, or the share hangs). That is reported once per outage;
// the folder is looked at again at every scan.
type FaceResult struct {
	Name string    // file name
	Path string    // where it was read
	Time time.Time // from the name
	// Raw is a private copy of the bytes; SHA256 is their hash (hex).
	Raw    []byte
	SHA256 string
	// Message is the decoded result; nil when Err is set.
	Message *ConfirmResult
	// Err says why the file could not be read as a face result. Such a file
	// is reported once and left where it is for a person to look at.
	Err error
	// CopyPath is the private copy in CopyDir, if one was made.
	CopyPath string
	// Note says how the file was taken when that is unusual (for example
	// read once because it was moved away before a second read).
	Note string
}

// Eligibility is the face result put plainly (nil Message gives an error
// outcome).
func (f *FaceResult) Eligibility() Eligibility {
	if f.Message == nil {
		why := "no result"
		if f.Err != nil {
			why = f.Err.Error()
		}
		return Eligibility{Kind: KindFaceResult.String(), Outcome: OutcomeError, Reasons: []string{why}, Qualifications: []QualificationSummary{}}
	}
	return Summarize(f.Message, KindFaceResult)
}

// ErrFaceFolder is matched by a *FolderError.
var ErrFaceFolder = errors.New("oqs: the face folder cannot be read")

// FolderError says the face folder could not be listed: it is missing
// (the share was unmounted, the folder moved) or did not answer in time.
type FolderError struct {
	Path string
	Err  error
}

func (e *FolderError) Error() string {
	return fmt.Sprintf("oqs: face folder %s cannot be read, retrying at every scan: %v", e.Path, e.Err)
}

// Is makes errors.Is(err, ErrFaceFolder) true.
func (e *FolderError) Is(target error) bool { return target == ErrFaceFolder }

// Unwrap returns the cause.
func (e *FolderError) Unwrap() error { return e.Err }

// Watcher reports each face file once: a file is taken after two identical
// reads (it may still be being written), deduplicated by name and by the
// hash of its bytes, and found again in AlsoLookIn if another program moves
// it. A Watcher's Poll and Run must not be called concurrently.
type Watcher struct {
	cfg     WatchConfig
	day     string
	done    map[string]bool   // names reported or judged
	hashes  map[string]string // content hash → name reported
	pending map[string]*pendingFile
	// faceDown: the face folder could not be listed at the last scan
	// (reported once until it can be again).
	faceDown bool
	// hung: a read timed out at this scan (the share hangs); hangShown:
	// that was reported and no scan since went without one.
	hung      error
	hangShown bool
}

// pendingFile is a file read once (or read again and found changed). Only
// a file that parses as a result keeps its bytes (and what they say) until
// it is taken; one that does not — perhaps half written, perhaps junk —
// keeps only its hash, so many large unparseable files cost no memory
// while they settle.
type pendingFile struct {
	sum     [32]byte
	data    []byte         // nil unless msg is set
	msg     *ConfirmResult // nil: did not parse (perr)
	perr    error
	path    string
	changed time.Time // when the bytes were last seen to change
	gone    time.Time // when it was first found nowhere; zero while present
}

// DefaultSettle is WatchConfig.Settle's default.
const DefaultSettle = 10 * time.Second

// NewWatcher checks cfg.
func NewWatcher(cfg WatchConfig) (*Watcher, error) {
	if cfg.Root == "" {
		return nil, errors.New("oqs: WatchConfig.Root is required")
	}
	if cfg.AlsoLookIn == nil {
		cfg.AlsoLookIn = []string{DirTrash}
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultScanInterval
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = DefaultMaxFileSize
	}
	if cfg.FileTimeout <= 0 {
		cfg.FileTimeout = DefaultFileTimeout
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := isDir(context.Background(), cfg.FileTimeout, filepath.Join(cfg.Root, DirFace)); err != nil {
		return nil, fmt.Errorf("oqs: %s is not a terminal share: no %s folder: %w", cfg.Root, DirFace, err)
	}
	if cfg.CopyDir != "" {
		if err := os.MkdirAll(cfg.CopyDir, 0o700); err != nil {
			return nil, fmt.Errorf("copy folder: %w", err)
		}
	}
	return &Watcher{cfg: cfg, done: map[string]bool{}, hashes: map[string]string{}, pending: map[string]*pendingFile{}}, nil
}

// Run scans until ctx ends, calling fn for each face file, in order.
func (w *Watcher) Run(ctx context.Context, fn func(FaceResult)) error {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		for _, r := range w.PollContext(ctx) {
			fn(r)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Events runs the watcher in a goroutine and delivers on a channel, which
// is closed when ctx ends.
func (w *Watcher) Events(ctx context.Context) <-chan FaceResult {
	ch := make(chan FaceResult)
	go func() {
		defer close(ch)
		_ = w.Run(ctx, func(r FaceResult) {
			select {
			case ch <- r:
			case <-ctx.Done():
			}
		})
	}()
	return ch
}

// dirs are the folders scanned, face first.
func (w *Watcher) dirs() []string {
	out := []string{filepath.Join(w.cfg.Root, DirFace)}
	for _, d := range w.cfg.AlsoLookIn {
		if !filepath.IsAbs(d) {
			d = filepath.Join(w.cfg.Root, d)
		}
		out = append(out, d)
	}
	return out
}

// Poll scans once and returns what became ready.
func (w *Watcher) Poll() []FaceResult { return w.PollContext(context.Background()) }

// PollContext is Poll; when ctx ends, file operations still running are
// abandoned and the scan returns what it has.
func (w *Watcher) PollContext(ctx context.Context) []FaceResult {
	now := w.cfg.Now().In(w.cfg.Location)
	if today := now.Format("20060102"); today != w.day {
		// A new day: forget yesterday's names and hashes.
		w.day = today
		w.done, w.hashes, w.pending = map[string]bool{}, map[string]string{}, map[string]*pendingFile{}
	}
	var out []FaceResult
	seen := map[string]string{}
	var names []string
	for i, d := range w.dirs() {
		ents, err := readDir(ctx, w.cfg.FileTimeout, d)
		if ctx.Err() != nil {
			return out
		}
		if i == 0 { // the face folder
			if err != nil && !w.faceDown {
				out = append(out, FaceResult{Path: d, Err: &FolderError{Path: d, Err: err}})
			}
			w.faceDown = err != nil
		}
		if err != nil {
			continue // a missing trash folder is normal
		}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(strings.ToLower(n), ".xml") || strings.HasPrefix(n, ".") {
				continue // temporary and foreign files
			}
			if _, dup := seen[n]; !dup {
				seen[n] = filepath.Join(d, n)
				names = append(names, n)
			}
		}
	}
	if w.faceDown {
		// Files elsewhere are still taken, but a pending file missing
		// from an unreadable face folder is not judged gone.
		for n, p := range w.pending {
			if _, ok := seen[n]; !ok {
				seen[n] = p.path
			}
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if ctx.Err() != nil {
			return out
		}
		if w.done[n] {
			continue
		}
		fn, err := ParseFaceName(n, w.cfg.Location)
		if err != nil {
			w.done[n] = true
			out = append(out, FaceResult{Name: n, Path: seen[n], Err: err})
			continue
		}
		if !w.cfg.AllDays && fn.Time.Format("20060102") != w.day {
			w.done[n] = true // not today's: never taken
			continue
		}
		if r, ok := w.look(ctx, n, seen[n], fn.Time); ok {
			out = append(out, r...)
		}
	}
	// A read that hung is tried again at the next scan, not judged; the
	// hang is reported once, until a scan goes without one.
	if w.hung != nil {
		if !w.hangShown && !w.faceDown {
			face := w.dirs()[0]
			out = append(out, FaceResult{Path: face, Err: &FolderError{Path: face, Err: w.hung}})
		}
		w.hangShown, w.hung = true, nil
	} else {
		w.hangShown = false
	}
	// Files that were pending but are found nowhere now.
	var gone []string
	for n := range w.pending {
		if _, ok := seen[n]; !ok {
			gone = append(gone, n)
		}
	}
	sort.Strings(gone)
	for _, n := range gone {
		p := w.pending[n]
		fn, _ := ParseFaceName(n, w.cfg.Location)
		if p.msg != nil {
			// Moved where we do not look after one complete read: take it.
			out = append(out, w.finish(n, p.path, fn.Time, p.data, p.msg, "read once: the file was moved away before a second read")...)
			continue
		}
		if p.gone.IsZero() {
			p.gone = time.Now()
		}
		if time.Since(p.gone) >= w.cfg.Settle {
			r := w.finish(n, p.path, fn.Time, nil, nil, "")
			r[len(r)-1].SHA256 = hex.EncodeToString(p.sum[:])
			r[len(r)-1].Err = fmt.Errorf("%s vanished before it could be read completely", n)
			out = append(out, r...)
		}
	}
	return out
}

// look reads one file and reports it once two reads agree.
func (w *Watcher) look(ctx context.Context, name, path string, t time.Time) ([]FaceResult, bool) {
	b, err := readCapped(ctx, w.cfg.FileTimeout, path, w.cfg.MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) || ctx.Err() != nil {
		return nil, false // moving: it will be found elsewhere, or counted as gone
	}
	if errors.Is(err, ErrFileTimeout) {
		w.hung = err
		return nil, false
	}
	if err != nil {
		// Not a regular file, or too large: reported once and left where
		// it is.
		w.done[name] = true
		delete(w.pending, name)
		return []FaceResult{{Name: name, Path: path, Time: t, Err: err}}, true
	}
	sum := sha256.Sum256(b)
	p := w.pending[name]
	if p == nil || p.sum != sum {
		np := &pendingFile{sum: sum, path: path, changed: time.Now()}
		if msg, perr := ParseConfirmResult(b); perr == nil {
			np.data, np.msg = b, msg
		} else {
			np.perr = perr
		}
		w.pending[name] = np
		return nil, false
	}
	p.path, p.gone = path, time.Time{}
	if p.msg == nil {
		// Stable but unreadable: the writer may have stalled. Give it time
		// before calling it bad.
		if time.Since(p.changed) < w.cfg.Settle {
			return nil, false
		}
		r := w.finish(name, path, t, b, nil, "")
		r[len(r)-1].Err = fmt.Errorf("%s: %w", name, p.perr)
		return r, true
	}
	return w.finish(name, path, t, b, p.msg, ""), true
}

// finish marks a file done and returns its report, unless the same bytes
// were already reported under another name.
func (w *Watcher) finish(name, path string, t time.Time, b []byte, msg *ConfirmResult, note string) []FaceResult {
	w.done[name] = true
	delete(w.pending, name)
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	if msg != nil {
		if _, dup := w.hashes[h]; dup {
			return nil
		}
		w.hashes[h] = name
	}
	r := FaceResult{Name: name, Path: path, Time: t, Raw: append([]byte(nil), b...), SHA256: h, Message: msg, Note: note}
	if w.cfg.CopyDir != "" && b != nil {
		// Only bytes read from a regular file get here; the copy is made
		// locally, never through a link.
		cp := filepath.Join(w.cfg.CopyDir, name)
		if err := atomicfile.WriteFile(cp, b, atomicfile.Private); err == nil {
			r.CopyPath = cp
		} else if r.Err == nil {
			r.Note = strings.TrimSpace(r.Note + "; copy failed: " + err.Error())
		}
	}
	return []FaceResult{r}
}
