// Package pdfsig signs PDF files with PAdES baseline signatures (ETSI EN
// 319 142-1: B-B, B-T, B-LT) as an incremental update, and verifies every
// signature a PDF holds: its byte range, its CMS, its signer's certificate
// and what the document's later revisions changed.
//
// The parser reads only what signing and verifying need — the cross
// reference (classic tables, xref streams, object streams), the catalog,
// the page tree, the form and the signature dictionaries — and is bounded
// in size, object count, nesting depth and reference chains: hostile input
// is an error, never a panic or a hang.
package pdfsig

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ErrMalformed is the class of every error about a PDF that cannot be read.
var ErrMalformed = errors.New("malformed PDF")

// ErrEncrypted: the PDF is encrypted; it is neither signed nor verified.
var ErrEncrypted = errors.New("encrypted PDFs are not supported: decrypt the file first (e.g. qpdf --decrypt)")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Limits on hostile input.
const (
	// MaxFileSize is the largest PDF read.
	MaxFileSize = 512 << 20
	// MaxObjects bounds the object numbers a cross reference may declare.
	MaxObjects = 1 << 21
	maxDepth   = 64       // nesting of arrays and dictionaries
	maxStream  = 32 << 20 // decoded bytes of one object or xref stream
	maxXrefs   = 4096     // xref sections in one /Prev chain
	maxElems   = 1 << 20  // elements of one array or dictionary
)

// Object is a PDF object: nil (null), bool, int64, float64, Name, String,
// Array, Dict, Ref or *Stream.
type Object any

// Name is a PDF name, without the slash, with #xx escapes decoded.
type Name string

// String is a PDF string. Pos and End are the offsets of its first and
// one-past-last delimiter in the file (-1 inside an object stream).
type String struct {
	B        []byte
	Hex      bool
	Pos, End int64
}

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary.
type Dict map[Name]Object

// Ref is an indirect reference.
type Ref struct{ Num, Gen int }

// Stream is a stream object; Raw is the undecoded data (a slice of the file).
type Stream struct {
	Dict Dict
	Raw  []byte
}

func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// lexer reads tokens from buf; base is buf[0]'s offset in the file (-1
// when buf is not a slice of the file).
type lexer struct {
	buf  []byte
	pos  int
	base int64
}

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.buf) {
		c := l.buf[l.pos]
		if isWhite(c) {
			l.pos++
		} else if c == '%' {
			for l.pos < len(l.buf) && l.buf[l.pos] != '\n' && l.buf[l.pos] != '\r' {
				l.pos++
			}
		} else {
			return
		}
	}
}

// regular reads a run of regular characters (a number or keyword).
func (l *lexer) regular() []byte {
	s := l.pos
	for l.pos < len(l.buf) && !isWhite(l.buf[l.pos]) && !isDelim(l.buf[l.pos]) {
		l.pos++
	}
	return l.buf[s:l.pos]
}

func (l *lexer) off(p int) int64 {
	if l.base < 0 {
		return -1
	}
	return l.base + int64(p)
}

// parseObject reads one object. Indirect references "n g R" are
// recognised. depth bounds nesting.
func (l *lexer) parseObject(depth int) (Object, error) {
	if depth > maxDepth {
		return nil, malformed("objects nested deeper than %d", maxDepth)
	}
	l.skipSpace()
	if l.pos >= len(l.buf) {
		return nil, malformed("unexpected end of data")
	}
	c := l.buf[l.pos]
	switch {
	case c == '/':
		return l.name()
	case c == '(':
		return l.literal()
	case c == '<' && l.pos+1 < len(l.buf) && l.buf[l.pos+1] == '<':
		l.pos += 2
		d := Dict{}
		for {
			l.skipSpace()
			if l.pos+1 < len(l.buf) && l.buf[l.pos] == '>' && l.buf[l.pos+1] == '>' {
				l.pos += 2
				return d, nil
			}
			if l.pos >= len(l.buf) {
				return nil, malformed("unterminated dictionary")
			}
			if l.buf[l.pos] != '/' {
				return nil, malformed("dictionary key is not a name at offset %d", l.off(l.pos))
			}
			k, err := l.name()
			if err != nil {
				return nil, err
			}
			v, err := l.parseObject(depth + 1)
			if err != nil {
				return nil, err
			}
			if len(d) >= maxElems {
				return nil, malformed("dictionary too large")
			}
			if v != nil {
				d[k] = v
			}
		}
	case c == '<':
		return l.hexString()
	case c == '[':
		l.pos++
		var a Array
		for {
			l.skipSpace()
			if l.pos < len(l.buf) && l.buf[l.pos] == ']' {
				l.pos++
				if a == nil {
					a = Array{}
				}
				return a, nil
			}
			if l.pos >= len(l.buf) {
				return nil, malformed("unterminated array")
			}
			v, err := l.parseObject(depth + 1)
			if err != nil {
				return nil, err
			}
			if len(a) >= maxElems {
				return nil, malformed("array too large")
			}
			a = append(a, v)
		}
	case c == ')' || c == '>' || c == ']' || c == '{' || c == '}':
		return nil, malformed("unexpected %q at offset %d", c, l.off(l.pos))
	}
	start := l.pos
	tok := l.regular()
	if len(tok) == 0 {
		return nil, malformed("unexpected %q at offset %d", c, l.off(l.pos))
	}
	switch string(tok) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if n, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
		// "n g R"?
		save := l.pos
		l.skipSpace()
		g := l.regular()
		if gn, err := strconv.ParseInt(string(g), 10, 64); err == nil && len(g) > 0 {
			l.skipSpace()
			if l.pos < len(l.buf) && l.buf[l.pos] == 'R' && (l.pos+1 == len(l.buf) || isWhite(l.buf[l.pos+1]) || isDelim(l.buf[l.pos+1])) {
				l.pos++
				if n < 0 || n >= MaxObjects || gn < 0 || gn > 65535 {
					return nil, malformed("reference %d %d R out of range", n, gn)
				}
				return Ref{int(n), int(gn)}, nil
			}
		}
		l.pos = save
		return n, nil
	}
	if isReal(tok) {
		if f, err := strconv.ParseFloat(string(tok), 64); err == nil {
			return f, nil
		}
	}
	return nil, malformed("unexpected token %q at offset %d", truncate(tok), l.off(start))
}

// isReal: only signs, digits and one point (PDF reals have no exponent).
func isReal(t []byte) bool {
	digits, points := 0, 0
	for i, c := range t {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		case (c == '-' || c == '+') && i == 0:
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}

func truncate(b []byte) string {
	if len(b) > 20 {
		b = b[:20]
	}
	return strconv.Quote(string(b))
}

func (l *lexer) name() (Name, error) {
	l.pos++ // '/'
	raw := l.regular()
	if bytes.IndexByte(raw, '#') < 0 {
		return Name(raw), nil
	}
	var b []byte
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) {
			v, err := strconv.ParseUint(string(raw[i+1:i+3]), 16, 8)
			if err == nil {
				b = append(b, byte(v))
				i += 2
				continue
			}
		}
		b = append(b, raw[i])
	}
	return Name(b), nil
}

func (l *lexer) literal() (String, error) {
	start := l.pos
	l.pos++
	var b []byte
	depth := 1
	for l.pos < len(l.buf) {
		c := l.buf[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
			b = append(b, c)
		case ')':
			depth--
			if depth == 0 {
				return String{B: b, Pos: l.off(start), End: l.off(l.pos)}, nil
			}
			b = append(b, c)
		case '\\':
			if l.pos >= len(l.buf) {
				return String{}, malformed("unterminated string")
			}
			e := l.buf[l.pos]
			l.pos++
			switch e {
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case '\r':
				if l.pos < len(l.buf) && l.buf[l.pos] == '\n' {
					l.pos++
				}
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.buf) && l.buf[l.pos] >= '0' && l.buf[l.pos] <= '7'; k++ {
						v = v*8 + int(l.buf[l.pos]-'0')
						l.pos++
					}
					b = append(b, byte(v))
				} else {
					b = append(b, e)
				}
			}
		default:
			b = append(b, c)
		}
	}
	return String{}, malformed("unterminated string")
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (l *lexer) hexString() (String, error) {
	start := l.pos
	l.pos++
	var b []byte
	half := -1
	for l.pos < len(l.buf) {
		c := l.buf[l.pos]
		l.pos++
		if c == '>' {
			if half >= 0 {
				b = append(b, byte(half<<4))
			}
			return String{B: b, Hex: true, Pos: l.off(start), End: l.off(l.pos)}, nil
		}
		if isWhite(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return String{}, malformed("bad hex string at offset %d", l.off(l.pos-1))
		}
		if half < 0 {
			half = int(v)
		} else {
			b = append(b, byte(half<<4)|v)
			half = -1
		}
	}
	return String{}, malformed("unterminated hex string")
}

// keyword reads the next keyword (e.g. "obj", "stream").
func (l *lexer) keyword() string {
	l.skipSpace()
	return string(l.regular())
}

// int reads a non-negative integer token.
func (l *lexer) int() (int64, bool) {
	l.skipSpace()
	t := l.regular()
	if len(t) == 0 || len(t) > 18 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(t), 10, 64)
	return n, err == nil && n >= 0
}

// Accessors that never panic on the wrong type.

func (d Dict) Name(k Name) Name {
	n, _ := d[k].(Name)
	return n
}

func asInt(o Object) (int64, bool) {
	switch v := o.(type) {
	case int64:
		return v, true
	case float64:
		if v == float64(int64(v)) {
			return int64(v), true
		}
	}
	return 0, false
}

func asNumber(o Object) (float64, bool) {
	switch v := o.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}
