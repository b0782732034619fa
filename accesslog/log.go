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
	dir  string
	key  []byte
	opts Options

	mu     sync.Mutex // writes, in chain order
	f      *os.File
	seq    int64
	last   string // the chain value of the last entry
	closed bool

	syncMu sync.Mutex
	synced int64 // entries known durable

	recovery Report
}

// ErrClosed: the log was closed.
var ErrClosed = errors.New("access log closed")

// Open opens (or creates) the log in dir, creating the key on first use,
// and recovers a torn last entry (see the package doc). What was found is
// in Recovery.
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
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	rep, good, last, err := scan(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("access log %s: %w", path, err)
	}
	l := &Log{dir: dir, key: key, opts: opts, f: f, seq: int64(rep.Entries), last: last, recovery: rep}
	l.synced = l.seq
	if rep.TornBytes > 0 {
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, fmt.Errorf("access log: cut the torn entry: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("access log: %w", err)
		}
		if _, err := l.Append(Entry{Event: Note, Action: "log-recovered", Outcome: "torn-entry-cut",
			Note: fmt.Sprintf("cut %d bytes of an incomplete entry %d at open", rep.TornBytes, rep.Entries+1)}); err != nil {
			f.Close()
			return nil, err
		}
	}
	return l, nil
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
	if err := l.syncTo(e.Seq); err != nil {
		return Entry{}, err
	}
	l.send(line)
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
	seq := l.seq
	l.mu.Unlock()
	return l.syncTo(seq)
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
	line, hash, err := encode(e)
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
func (l *Log) syncTo(seq int64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= seq {
		return nil
	}
	l.mu.Lock()
	upto := l.seq
	f := l.f
	l.mu.Unlock()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("access log: fsync: %w", err)
	}
	l.synced = upto
	return nil
}

// Close closes the log and its sinks.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	err := l.f.Close()
	for _, s := range l.opts.Sinks {
		_ = s.Close()
	}
	return err
}

// encode writes e without its hash, then appends the hash of those bytes.
func encode(e Entry) (line []byte, hash string, err error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(b)
	hash = hex.EncodeToString(sum[:])
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
	// Chain: an entry's prev is not the previous entry's hash: an entry
	// before it was removed, replaced or reordered.
	Chain ProblemKind = "chain"
	// Sequence: an entry's number is not its position.
	Sequence ProblemKind = "sequence"
)

// Problem is one place the log is damaged; Entry is the 1-based line.
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
}

// Intact reports whether nothing is damaged.
func (r Report) Intact() bool { return len(r.Problems) == 0 }

// Verify checks the log file at path without changing it and returns the
// entries that could be read (damaged ones included, as they stand).
func Verify(path string) (Report, []Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, nil, err
	}
	defer f.Close()
	var entries []Entry
	rep, _, _, err := scanWith(f, func(e Entry) { entries = append(entries, e) })
	return rep, entries, err
}

func scan(r io.Reader) (Report, int64, string, error) { return scanWith(r, nil) }

// scanWith reads every line, checks it and the chain, and returns the
// report, the offset after the last complete line and the chain value of
// the last complete line.
func scanWith(r io.Reader, each func(Entry)) (rep Report, good int64, last string, err error) {
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
		e, chainValue, problems := check(n, line, prev)
		rep.Problems = append(rep.Problems, problems...)
		if each != nil && e != nil {
			each(*e)
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
// problems found.
func check(n int, line []byte, prev string) (*Entry, string, []Problem) {
	raw := sha256.Sum256(line)
	fallback := hex.EncodeToString(raw[:])
	var e Entry
	if len(line) > maxLine || json.Unmarshal(line, &e) != nil {
		return nil, fallback, []Problem{{Entry: n, Kind: Malformed, Detail: "the line is not an access-log entry"}}
	}
	var out []Problem
	const tail = len(`,"hash":"`) + 64 + len(`"}`)
	ok := len(line) > tail && validHash(e.Hash) && bytes.HasSuffix(line, []byte(`,"hash":"`+e.Hash+`"}`))
	chain := fallback
	if ok {
		body := append(append([]byte(nil), line[:len(line)-tail]...), '}')
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != e.Hash {
			out = append(out, Problem{Entry: n, Kind: Altered, Detail: "the entry does not match its hash: it was changed after it was written"})
		}
		chain = e.Hash
	} else {
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
	return &e, chain, out
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
