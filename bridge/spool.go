package bridge

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"unicode"

	"github.com/mynakit/mynakit/pdfsig"
	"github.com/mynakit/mynakit/pin"
)

// spooled is a document to be signed: hashed as it streamed in, and kept
// in a private temporary file (removed at once where the system allows)
// rather than in memory while its operation waits for the reader and the
// holder. Only the operation that signs it reads it back, one at a time
// per reader.
type spooled struct {
	mu   sync.Mutex
	f    *os.File
	path string // removed on close (Windows: an open file cannot be)
	mem  []byte // a small document that came in a JSON or CBOR body
	size int64
	sum  [32]byte
	name string
}

// spool streams the request body, at most limit bytes, into a private
// temporary file, hashing it on the way.
func (b *Bridge) spool(w http.ResponseWriter, r *http.Request, limit int64) (*spooled, *apiError) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	f, err := os.CreateTemp(b.opts.SpoolDir, ".mynakit-document-*")
	if err != nil {
		b.logger.Printf("spool: %v", err)
		return nil, newError(http.StatusInternalServerError, "internal", "文書を受け取れません could not take the document")
	}
	s := &spooled{f: f, path: f.Name()}
	if runtime.GOOS != "windows" && os.Remove(s.path) == nil {
		s.path = ""
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		s.close()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		return nil, newError(http.StatusBadRequest, "bad-request", "要求を読めません could not read the body")
	}
	if n == 0 {
		s.close()
		return nil, newError(http.StatusBadRequest, "bad-request", "文書が空です the document is empty")
	}
	s.size = n
	copy(s.sum[:], h.Sum(nil))
	return s, nil
}

// memDocument is a small document given in a JSON or CBOR body.
func memDocument(doc []byte) *spooled {
	s := &spooled{mem: doc, size: int64(len(doc)), sum: sha256.Sum256(doc)}
	return s
}

// bytes reads the document back, checking that it is still the one the
// holder was shown the digest of.
func (s *spooled) bytes() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem != nil {
		return s.mem, nil
	}
	if s.f == nil {
		return nil, errors.New("the document is gone")
	}
	buf := make([]byte, s.size)
	if _, err := s.f.ReadAt(buf, 0); err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	if sha256.Sum256(buf) != s.sum {
		return nil, errors.New("the document changed on disk after the holder saw its digest")
	}
	return buf, nil
}

func (s *spooled) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	if s.path != "" {
		os.Remove(s.path)
		s.path = ""
	}
	pin.Wipe(s.mem)
	s.mem = nil
}

// documentName is the name a caller gives a document (X-Document-Name,
// percent-encoded UTF-8, or ?name=), cleaned for the consent page: no
// control or format characters, at most 120 characters.
func documentName(r *http.Request) string {
	raw := r.Header.Get("X-Document-Name")
	if raw == "" {
		raw = r.URL.Query().Get("name")
	} else if u, err := url.PathUnescape(raw); err == nil {
		raw = u
	}
	var b strings.Builder
	n := 0
	for _, c := range strings.ToValidUTF8(raw, "�") {
		if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
			c = '�'
		}
		if n == 120 {
			b.WriteString("…")
			break
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}

// reserve takes a place in rd's queue before a large body is read; the
// operation made from the request then has it (operation.reserved), or
// unreserve gives it back.
func (b *Bridge) reserve(rd *reader) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if rd.waiting >= b.opts.QueueDepth {
		return false
	}
	rd.waiting++
	return true
}

func (b *Bridge) unreserve(rd *reader) {
	b.mu.Lock()
	rd.waiting--
	b.mu.Unlock()
}

// pdfPages says how many pages a PDF has, for the consent page ("" for
// anything that is not a PDF the parser reads; its work is bounded).
func pdfPages(content []byte) string {
	if !bytes.HasPrefix(content, []byte("%PDF-")) {
		return ""
	}
	d, err := pdfsig.Parse(content)
	if err != nil {
		return " — PDF（ページ数を読めません page count unreadable）"
	}
	pages, err := d.Pages()
	if err != nil {
		return " — PDF（ページ数を読めません page count unreadable）"
	}
	return fmt.Sprintf(" — PDF %d ページ pages", len(pages))
}
