package accesslog

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// File names inside the log directory.
const (
	FileName    = "access.log"
	KeyFileName = "access.key"
	// HeadFileName keeps the log's head: the number and hash of its last
	// durable entry (see the package doc).
	HeadFileName = "access.head"
)

// Event says which end of an operation an entry records.
type Event string

const (
	// Begin is written before the card is touched: who asks what.
	Begin Event = "begin"
	// End is written when the operation is over, before its result is
	// handed out: how it ended.
	End Event = "end"
	// Note is written by the log itself (a recovery).
	Note Event = "note"
)

// Entry is one access record. Append fills Seq, Time (when zero), Prev and
// Hash.
type Entry struct {
	Seq   int64     `json:"seq"`
	Time  time.Time `json:"time"`
	ID    string    `json:"id,omitempty"` // joins an operation's begin and end
	Event Event     `json:"event"`
	// Origin is the web origin that asked ("" for a local application).
	Origin string `json:"origin,omitempty"`
	Reader string `json:"reader,omitempty"`
	// Action is what was asked: read, status, certificate, authenticate,
	// sign, photo, qr, pair, oqs-confirm; log-recovered for a note.
	Action string `json:"action"`
	// Data names the data concerned: text, surface, common, jpki, photo,
	// pin-status, auth-certificate, sign-certificate, auth-key, sign-key,
	// age-record, eligibility.
	Data []string `json:"data,omitempty"`
	// Outcome is how it ended (End entries), in a fixed vocabulary:
	// genuine, genuine-expired, not-genuine, unknown, ok, denied,
	// cancelled, or error:<kind>.
	Outcome string `json:"outcome,omitempty"`
	// Card is the keyed hash of the card's serial (CardID), when known.
	Card string `json:"card,omitempty"`
	// Note explains a Note entry.
	Note string `json:"note,omitempty"`
	Prev string `json:"prev"`
	Hash string `json:"hash,omitempty"`
}

// maxLine bounds one entry; longer lines are damage, not entries.
const maxLine = 64 << 10

var zeroHash = strings.Repeat("0", 64)

// Options configures a Log.
type Options struct {
	// Sinks receive every entry as it is written.
	Sinks []Sink
	// OnSinkError is told when a sink fails; the entry stays in the file.
	OnSinkError func(error)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Log is an open access log. Its methods are safe for concurrent use.
type Log struct {
	dir   string
	key   []byte
	chain []byte // the chain's HMAC key, derived from key
	opts  Options
	head  *os.File

	mu     sync.Mutex // writes, in chain order
	f      *os.File
	seq    int64
	last   string // the chain value of the last entry
	closed bool

	syncMu      sync.Mutex
	synced      int64 // entries known durable
	headSeq     int64 // the entry the head file records
	headWritten bool

	recovery Report
}

// ErrClosed: the log was closed.
var ErrClosed = errors.New("access log closed")

// ErrLocked: another writer has the log open (another process, such as a
// second bridge, writing the same folder).
var ErrLocked = errors.New("アクセス記録は別のプロセスが書き込み中です another process is writing this access log (is another mynakit serve running on it?)")

var errLocked = ErrLocked

// Open opens (or creates) the log in dir for writing, creating the key on
// first use, and takes the log's lock: a second writer gets ErrLocked. It
// recovers a torn last entry and records, as a note entry of its own
// before anything else is written, entries missing at the end (the log is
// shorter than its head) or a last entry that is not the one the head
// recorded (see the package doc). What was found is in Recovery.
func Open(dir string, opts Options) (*Log, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	key, err := loadOrCreateKey(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	if err := refuseLink(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND|oNoFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, fmt.Errorf("access log %s: lock: %w", path, err)
	}
	l := &Log{dir: dir, key: key, chain: chainKey(key), opts: opts, f: f}
	if err := l.recover(); err != nil {
		l.f.Close()
		if l.head != nil {
			l.head.Close()
		}
		return nil, err
	}
	return l, nil
}

// recover checks the file at open, cuts a torn last entry, records what
// the head says is missing, and writes the head.
func (l *Log) recover() error {
	path := l.Path()
	hashes := map[int64]string{} // by position
	rep, good, last, err := scanWith(l.f, l.chain, func(n int, e Entry) { hashes[int64(n)] = e.Hash })
	if err != nil {
		return fmt.Errorf("access log %s: %w", path, err)
	}
	l.seq, l.last, l.recovery = int64(rep.Entries), last, rep
	l.synced = l.seq
	head, herr := readHead(l.dir)
	if herr != nil && !errors.Is(herr, fs.ErrNotExist) && !errors.Is(herr, errBadHead) {
		return herr
	}
	hp := filepath.Join(l.dir, HeadFileName)
	if err := refuseLink(hp); err != nil {
		return err
	}
	if l.head, err = os.OpenFile(hp, os.O_RDWR|os.O_CREATE|oNoFollow, 0o600); err != nil {
		return fmt.Errorf("access log head: %w", err)
	}
	if rep.TornBytes > 0 {
		if err := l.f.Truncate(good); err != nil {
			return fmt.Errorf("access log: cut the torn entry: %w", err)
		}
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("access log: %w", err)
		}
		if _, err := l.Write(Entry{Event: Note, Action: "log-recovered", Outcome: "torn-entry-cut",
			Note: fmt.Sprintf("cut %d bytes of an incomplete entry %d at open", rep.TornBytes, rep.Entries+1)}); err != nil {
			return err
		}
	}
	n := int64(rep.Entries)
	switch {
	case herr != nil:
		what := "no head file beside it"
		if errors.Is(herr, errBadHead) {
			what = "a damaged head file"
		}
		if n > 0 || errors.Is(herr, errBadHead) {
			if _, err := l.Write(Entry{Event: Note, Action: ActionHeadMissing, Outcome: "head-missing",
				Note: fmt.Sprintf("the log had %d entries but %s: entries missing at its end cannot be ruled out", n, what)}); err != nil {
				return err
			}
		}
	case head.Seq > n:
		// Before anything else: the gap becomes an entry of its own.
		if _, err := l.Write(Entry{Event: Note, Action: ActionGap, Outcome: "entries-missing",
			Note: fmt.Sprintf("the log ended at entry %d but its head recorded entry %d (hash %s): entries %d to %d are missing", n, head.Seq, head.Hash, n+1, head.Seq)}); err != nil {
			return err
		}
	case head.Seq > 0 && hashes[head.Seq] != head.Hash:
		if _, err := l.Write(Entry{Event: Note, Action: ActionGap, Outcome: "entries-replaced",
			Note: fmt.Sprintf("entry %d is not the one the head recorded (hash %s): the log was rewritten from there or before", head.Seq, head.Hash)}); err != nil {
			return err
		}
	}
	return l.Sync()
}

// Path is the log file's path.
func (l *Log) Path() string { return filepath.Join(l.dir, FileName) }

// Recovery is what Open found: the entries, the damage, a cut torn entry.
func (l *Log) Recovery() Report { return l.recovery }

// CardID is the keyed hash that stands for a card's serial in the log.
func (l *Log) CardID(serial string) string { return CardID(l.key, serial) }

// CardID is HMAC-SHA-256 of the serial under key, as 32 hex digits.
func CardID(key []byte, serial string) string {
	if serial == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("mynakit access log card serial\x00"))
	m.Write([]byte(serial))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Append writes e, chained to the last entry, and returns once it is on
// disk (fsync'd); the entry as written is returned. Then the sinks get it.
func (l *Log) Append(e Entry) (Entry, error) {
	e, line, err := l.write(e)
	if err != nil {
		return Entry{}, err
	}
	h, err := l.syncTo(e.Seq)
	if err != nil {
		return Entry{}, err
	}
	l.send(line)
	l.sendHead(h)
	return e, nil
}

// Write writes e, chained to the last entry, without waiting for the disk:
// it is durable once Sync, or any later Append, returns. A caller that
// hands nothing out before then (the bridge's begin record of an
// operation, made durable by its end record or before its first fact
// leaves) saves an fsync.
func (l *Log) Write(e Entry) (Entry, error) {
	e, line, err := l.write(e)
	if err != nil {
		return Entry{}, err
	}
	l.send(line)
	return e, nil
}

// Sync makes every entry written so far durable.
func (l *Log) Sync() error {
	l.mu.Lock()
	seq, closed := l.seq, l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	h, err := l.syncTo(seq)
	l.sendHead(h)
	return err
}

// send hands the line as written to the sinks.
func (l *Log) send(line []byte) {
	for _, s := range l.opts.Sinks {
		if err := s.Send(line); err != nil && l.opts.OnSinkError != nil {
			l.opts.OnSinkError(err)
		}
	}
}

func (l *Log) write(e Entry) (Entry, []byte, error) {
	if e.Time.IsZero() {
		e.Time = l.opts.Now()
	}
	e.Time = e.Time.UTC().Truncate(time.Millisecond)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return Entry{}, nil, ErrClosed
	}
	e.Seq = l.seq + 1
	e.Prev = l.last
	if e.Prev == "" {
		e.Prev = zeroHash
	}
	line, hash, err := encode(l.chain, e)
	if err != nil {
		l.mu.Unlock()
		return Entry{}, nil, err
	}
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		l.mu.Unlock()
		return Entry{}, nil, fmt.Errorf("access log: %w", err)
	}
	l.seq, l.last = e.Seq, hash
	e.Hash = hash
	l.mu.Unlock()
	return e, line, nil
}

// syncTo makes every entry up to seq durable: one fsync covers all the
// entries written before it started.
func (l *Log) syncTo(seq int64) (Head, error) {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= seq && l.headSeq == l.synced && l.headWritten {
		return Head{}, nil
	}
	l.mu.Lock()
	upto, last := l.seq, l.last
	f := l.f
	l.mu.Unlock()
	if err := f.Sync(); err != nil {
		return Head{}, fmt.Errorf("access log: fsync: %w", err)
	}
	l.synced = upto
	// The head follows the entries on disk, never leads them.
	h := Head{Seq: upto, Hash: last}
	if err := writeHead(l.head, h); err != nil {
		return Head{}, err
	}
	l.headSeq, l.headWritten = upto, true
	return h, nil
}

// Close makes every entry durable, writes the head, and closes the log
// (releasing its lock) and its sinks.
func (l *Log) Close() error {
	if l.f == nil {
		return nil
	}
	serr := l.Sync()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if serr != nil && !errors.Is(serr, ErrClosed) {
		l.head.Close()
		l.f.Close()
		return serr
	}
	l.head.Close()
	err := l.f.Close()
	for _, s := range l.opts.Sinks {
		_ = s.Close()
	}
	return err
}

// chainKey is the key of the chain's HMAC, apart from the card hashes'.
func chainKey(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("mynakit access log chain v1"))
	return m.Sum(nil)
}

// mac is the hex HMAC-SHA-256 of an entry's bytes under the chain key.
func mac(chain, body []byte) string {
	m := hmac.New(sha256.New, chain)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// encode writes e without its hash, then appends the keyed hash of those
// bytes.
func encode(chain []byte, e Entry) (line []byte, hash string, err error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, "", err
	}
	hash = mac(chain, b)
	line = append(b[:len(b)-1:len(b)-1], `,"hash":"`+hash+`"}`...)
	return line, hash, nil
}

// ProblemKind names a kind of damage.
type ProblemKind string

const (
	// Torn: the last line is incomplete (a crash while it was written).
	Torn ProblemKind = "torn"
	// Malformed: a line is not an entry.
	Malformed ProblemKind = "malformed"
	// Altered: an entry does not match its own hash: it was changed
	// after it was written.
	Altered ProblemKind = "altered"
	// Forged: an entry's hash is not keyed with access.key: the entry was
	// written, or the log rewritten, by someone without the key.
	Forged ProblemKind = "forged"
	// Chain: an entry's prev is not the previous entry's hash: an entry
	// before it was removed, replaced or reordered.
	Chain ProblemKind = "chain"
	// Sequence: an entry's number is not its position.
	Sequence ProblemKind = "sequence"
	// Missing: entries are missing at the end of the log: the log is
	// shorter than its head (it was cut or emptied), or a writer found it
	// so and recorded the gap.
	Missing ProblemKind = "missing"
	// Replaced: the entry the head records is not the one in the log.
	Replaced ProblemKind = "replaced"
	// NoHead: the head file beside the log is missing or unreadable, so
	// entries missing at the end cannot be ruled out.
	NoHead ProblemKind = "no-head"
	// NoKey: access.key is missing, so no entry can be authenticated.
	NoKey ProblemKind = "no-key"
)

// Note actions the log writes about itself.
const (
	// ActionGap: at open, the log was shorter than its head, or its entry
	// at the head's number was not the head's.
	ActionGap = "log-gap"
	// ActionHeadMissing: at open, a log with entries had no head.
	ActionHeadMissing = "log-head-missing"
)

// Problem is one place the log is damaged; Entry is the 1-based line (for
// entries missing at the end, the first missing one; 0: the log as a
// whole).
type Problem struct {
	Entry  int         `json:"entry"`
	Kind   ProblemKind `json:"kind"`
	Detail string      `json:"detail"`
}

// Report is what checking a log found.
type Report struct {
	// Entries is the number of complete lines.
	Entries  int       `json:"entries"`
	Problems []Problem `json:"problems"`
	// TornBytes is the length of an incomplete last line (0: none).
	TornBytes int64 `json:"torn_bytes,omitempty"`
	// Head is the head file's record (nil: none could be read).
	Head *Head `json:"head,omitempty"`
}

// Intact reports whether nothing is damaged.
func (r Report) Intact() bool { return len(r.Problems) == 0 }

// Verify checks the log file at path without changing it, with the key
// and the head beside it, and returns the entries that could be read
// (damaged ones included, as they stand). It finds entries changed,
// removed, reordered or forged without the key, entries missing at the
// end (against the head), and the gaps writers recorded.
func Verify(path string) (Report, []Entry, error) {
	dir := filepath.Dir(path)
	var chain []byte
	key, kerr := LoadKey(dir)
	switch {
	case kerr == nil:
		chain = chainKey(key)
	case !errors.Is(kerr, fs.ErrNotExist):
		return Report{}, nil, kerr
	}
	f, err := os.Open(path)
	if err != nil {
		return Report{}, nil, err
	}
	defer f.Close()
	var entries []Entry
	hashes := map[int64]string{} // by position
	rep, _, _, err := scanWith(f, chain, func(n int, e Entry) {
		entries = append(entries, e)
		hashes[int64(n)] = e.Hash
	})
	if err != nil {
		return rep, entries, err
	}
	if chain == nil {
		rep.Problems = append([]Problem{{Kind: NoKey, Detail: KeyFileName + " is missing beside the log: no entry can be authenticated"}}, rep.Problems...)
	}
	for _, e := range entries {
		switch {
		case e.Event == Note && e.Action == ActionGap:
			rep.Problems = append(rep.Problems, Problem{Entry: int(e.Seq), Kind: Missing, Detail: "recorded when the log was reopened: " + e.Note})
		case e.Event == Note && e.Action == ActionHeadMissing:
			rep.Problems = append(rep.Problems, Problem{Entry: int(e.Seq), Kind: NoHead, Detail: "recorded when the log was reopened: " + e.Note})
		}
	}
	head, herr := readHead(dir)
	switch {
	case herr != nil && errors.Is(herr, fs.ErrNotExist):
		if rep.Entries > 0 {
			rep.Problems = append(rep.Problems, Problem{Kind: NoHead, Detail: HeadFileName + " is missing beside the log: entries missing at its end cannot be ruled out"})
		}
	case herr != nil:
		rep.Problems = append(rep.Problems, Problem{Kind: NoHead, Detail: herr.Error()})
	default:
		rep.Head = &head
		n := int64(rep.Entries)
		switch {
		case head.Seq > n && n == 0:
			rep.Problems = append(rep.Problems, Problem{Entry: 1, Kind: Missing,
				Detail: fmt.Sprintf("the log is empty but its head records %d entries: it was emptied", head.Seq)})
		case head.Seq > n:
			rep.Problems = append(rep.Problems, Problem{Entry: int(n) + 1, Kind: Missing,
				Detail: fmt.Sprintf("%d entries are missing at the end (entries %d to %d): the log ends at entry %d but its head records entry %d; it was cut", head.Seq-n, n+1, head.Seq, n, head.Seq)})
		case head.Seq > 0 && hashes[head.Seq] != head.Hash:
			rep.Problems = append(rep.Problems, Problem{Entry: int(head.Seq), Kind: Replaced,
				Detail: "the entry is not the one the head recorded: the log was rewritten"})
		}
	}
	return rep, entries, nil
}

func scan(r io.Reader, chain []byte) (Report, int64, string, error) { return scanWith(r, chain, nil) }

// scanWith reads every line, checks it (its keyed hash, with chain; only
// its form without) and the chain, and returns the report, the offset
// after the last complete line and the chain value of the last complete
// line.
func scanWith(r io.Reader, chain []byte, each func(n int, e Entry)) (rep Report, good int64, last string, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	rep.Problems = []Problem{}
	prev := zeroHash
	for n := 1; ; n++ {
		line, rerr := readLine(br)
		if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, errLong) {
			return rep, good, last, rerr
		}
		complete := rerr == nil || errors.Is(rerr, errLong)
		if !complete {
			if len(line) > 0 {
				rep.TornBytes = int64(len(line))
				rep.Problems = append(rep.Problems, Problem{Entry: n, Kind: Torn, Detail: fmt.Sprintf("the last %d bytes are an incomplete entry", len(line))})
			}
			return rep, good, last, nil
		}
		good += int64(len(line)) + 1
		rep.Entries = n
		e, chainValue, problems := check(n, line, prev, chain)
		rep.Problems = append(rep.Problems, problems...)
		if each != nil && e != nil {
			each(n, *e)
		}
		prev, last = chainValue, chainValue
		if errors.Is(rerr, errLong) {
			// The over-long line was consumed whole; carry on after it.
			continue
		}
	}
}

var errLong = errors.New("line too long")

// readLine returns the next line without its newline; io.EOF with the
// bytes of an unterminated last line; errLong (after consuming the line)
// for a line over maxLine, whose first maxLine bytes are returned.
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	long := false
	for {
		chunk, err := br.ReadSlice('\n')
		if len(out)+len(chunk) <= maxLine+1 {
			out = append(out, chunk...)
		} else {
			long = true
		}
		switch {
		case err == nil:
			out = bytes.TrimSuffix(out, []byte("\n"))
			if long {
				return out, errLong
			}
			return out, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return out, err
		}
	}
}

// check verifies one line against the chain value of the line before it
// and returns the entry (nil if unreadable), its own chain value and the
// problems found. Without a chain key only the form is checked.
func check(n int, line []byte, prev string, chain []byte) (*Entry, string, []Problem) {
	fallback := func() string {
		raw := sha256.Sum256(line)
		return hex.EncodeToString(raw[:])
	}
	var e Entry
	if len(line) > maxLine || json.Unmarshal(line, &e) != nil {
		return nil, fallback(), []Problem{{Entry: n, Kind: Malformed, Detail: "the line is not an access-log entry"}}
	}
	var out []Problem
	const tail = len(`,"hash":"`) + 64 + len(`"}`)
	ok := len(line) > tail && validHash(e.Hash) && bytes.HasSuffix(line, []byte(`,"hash":"`+e.Hash+`"}`))
	var chainValue string
	if ok {
		body := append(append([]byte(nil), line[:len(line)-tail]...), '}')
		if chain != nil && !hmac.Equal([]byte(mac(chain, body)), []byte(e.Hash)) {
			if plain := sha256.Sum256(body); hex.EncodeToString(plain[:]) == e.Hash {
				out = append(out, Problem{Entry: n, Kind: Forged, Detail: "the entry's hash is not keyed with " + KeyFileName + ": it was written, or the log rewritten, without the key"})
			} else {
				out = append(out, Problem{Entry: n, Kind: Altered, Detail: "the entry does not match its keyed hash: it was changed after it was written, or written without " + KeyFileName})
			}
		}
		chainValue = e.Hash
	} else {
		chainValue = fallback()
		out = append(out, Problem{Entry: n, Kind: Altered, Detail: "the entry has no valid hash at its end"})
	}
	if e.Prev != prev {
		what := "the entry before it"
		if n == 1 {
			what = "the start of the log (entries before it were removed?)"
		}
		out = append(out, Problem{Entry: n, Kind: Chain, Detail: "prev does not match " + what + ": an entry was removed, replaced or reordered"})
	}
	if e.Seq != int64(n) {
		out = append(out, Problem{Entry: n, Kind: Sequence, Detail: fmt.Sprintf("numbered %d at position %d", e.Seq, n)})
	}
	return &e, chainValue, out
}

func validHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// loadOrCreateKey reads dir's key, creating 32 random bytes (mode 0600) on
// first use. A key others can read is refused: with it the card hashes
// can be tested against known serials.
func loadOrCreateKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyFileName)
	key, err := LoadKey(dir)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKey(dir) // made by another process just now
	}
	if err != nil {
		return nil, fmt.Errorf("access log key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k[:]) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("access log key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("access log key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return k[:], nil
}

// ErrKeyExposed: the key file can be read by others than its owner.
var ErrKeyExposed = errors.New("アクセス記録の鍵が他人に読めます access log key is readable by others (want mode 0600)")

// LoadKey reads the key of the log in dir.
func LoadKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyFileName)
	if err := refuseLink(path); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrKeyExposed)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s: not a key of 64 hex digits", path)
	}
	return key, nil
}

// ErrSymlink: a log file is a symbolic link, which is not followed.
var ErrSymlink = errors.New("シンボリックリンクは使いません refusing a symbolic link")

func refuseLink(path string) error {
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s: %w", path, ErrSymlink)
	}
	return nil
}
