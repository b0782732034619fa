package oqs

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// DefaultMaxFileSize caps what is read from the share. Real results are a
// few kilobytes; a megabyte leaves room for long lists.
const DefaultMaxFileSize = 1 << 20

// Limits on document shape, well above anything the interface uses.
const (
	maxDepth    = 32
	maxElements = 20000
)

var (
	// ErrMalformed is returned for a file that is not well-formed XML or not
	// shaped like an OQS message.
	ErrMalformed = errors.New("oqs: malformed file")
	// ErrDTD is returned for a document with a DOCTYPE, entity declaration or
	// other markup declaration: the interface uses none, and refusing them
	// shuts out entity expansion and external references.
	ErrDTD = errors.New("oqs: DTDs and entity declarations are not allowed")
	// ErrTooLarge is returned for a file over the size cap.
	ErrTooLarge = errors.New("oqs: file too large")
)

// Element is one XML element kept as a tree: unknown elements survive a
// read in Extra fields, and the simulated terminal builds its answers from
// trees. Text is the element's character data exactly as written (leading
// spaces in 保険者番号 matter); an element with children has no text.
type Element struct {
	Name     string
	Text     string
	Children []Element
}

// Child returns the first child called name.
func (e *Element) Child(name string) (*Element, bool) {
	for i := range e.Children {
		if e.Children[i].Name == name {
			return &e.Children[i], true
		}
	}
	return nil, false
}

// Leaf makes a text-only element.
func Leaf(name, text string) Element { return Element{Name: name, Text: text} }

// Group makes an element holding children.
func Group(name string, children ...Element) Element {
	return Element{Name: name, Children: children}
}

// UnmarshalXML reads the element and everything inside it.
func (e *Element) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	e.Name = start.Name.Local
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var c Element
			if err := c.UnmarshalXML(d, t); err != nil {
				return err
			}
			e.Children = append(e.Children, c)
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(e.Children) == 0 {
				e.Text = text.String()
			}
			return nil
		}
	}
}

// write appends the element, indented by two spaces a level as the
// terminal's own files are.
func (e *Element) write(b *bytes.Buffer, level int) {
	pad := strings.Repeat("  ", level)
	b.WriteString(pad)
	b.WriteString("<" + e.Name + ">")
	if len(e.Children) == 0 {
		escapeText(b, e.Text)
		b.WriteString("</" + e.Name + ">\n")
		return
	}
	b.WriteString("\n")
	for i := range e.Children {
		e.Children[i].write(b, level+1)
	}
	b.WriteString(pad + "</" + e.Name + ">\n")
}

// escapeText escapes only what XML requires, so every other character stays
// itself (never a numeric character reference).
func escapeText(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
}

// walkText calls fn for every leaf's text, with the leaf's name.
func (e *Element) walkText(fn func(name, text string) error) error {
	if len(e.Children) == 0 {
		return fn(e.Name, e.Text)
	}
	for i := range e.Children {
		if err := e.Children[i].walkText(fn); err != nil {
			return err
		}
	}
	return nil
}

// checkXMLText refuses characters XML 1.0 cannot carry at all.
func checkXMLText(name, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("oqs: %s: not valid UTF-8", name)
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return fmt.Errorf("oqs: %s: control character U+%04X cannot be written in XML", name, r)
		}
	}
	return nil
}

// EncodeDocument writes root as a complete file in enc, with the
// declaration the terminal's files carry (standalone="no"). A value enc
// cannot hold is refused with an *UnencodableError.
func EncodeDocument(root Element, enc Encoding) ([]byte, error) {
	err := root.walkText(func(name, text string) error {
		if err := checkXMLText(name, text); err != nil {
			return err
		}
		return checkEncodable(name, text, enc)
	})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"%s\" standalone=\"no\"?>\n", enc)
	root.write(&b, 0)
	return fromUTF8(b.Bytes(), enc)
}

// guard passes tokens through while refusing DTDs, unexpected processing
// instructions and absurd nesting.
type guard struct {
	d        *xml.Decoder
	depth    int
	elements int
	started  bool
	ended    bool
}

func (g *guard) Token() (xml.Token, error) {
	tok, err := g.d.Token()
	if err != nil {
		return tok, err
	}
	switch t := tok.(type) {
	case xml.Directive:
		return nil, fmt.Errorf("%w: found <!%s", ErrDTD, firstWord(t))
	case xml.ProcInst:
		if t.Target != "xml" || g.started {
			return nil, fmt.Errorf("%w: unexpected processing instruction <?%s", ErrMalformed, t.Target)
		}
	case xml.StartElement:
		if g.ended {
			return nil, fmt.Errorf("%w: more than one root element", ErrMalformed)
		}
		g.started = true
		g.depth++
		g.elements++
		if g.depth > maxDepth {
			return nil, fmt.Errorf("%w: nested deeper than %d", ErrMalformed, maxDepth)
		}
		if g.elements > maxElements {
			return nil, fmt.Errorf("%w: more than %d elements", ErrMalformed, maxElements)
		}
	case xml.EndElement:
		g.depth--
		if g.depth == 0 {
			g.ended = true
		}
	case xml.CharData:
		if g.depth == 0 && len(bytes.TrimSpace(t)) > 0 {
			return nil, fmt.Errorf("%w: text outside the root element", ErrMalformed)
		}
	}
	return tok, nil
}

func firstWord(b []byte) string {
	s := string(b)
	if i := strings.IndexAny(s, " \t\r\n["); i >= 0 {
		s = s[:i]
	}
	if len(s) > 20 {
		s = s[:20]
	}
	return s
}

var charCodeTag = regexp.MustCompile(`<CharacterCodeIdentifier>\s*([0-9])\s*</CharacterCodeIdentifier>`)

// Source says how a file was read.
type Source struct {
	// Encoding is the encoding the file was decoded with.
	Encoding Encoding
	// Warnings note what was accepted but is not as the interface has it,
	// for example a CharacterCodeIdentifier that disagrees with the XML
	// declaration.
	Warnings []string
}

// decodeDocument checks the size, picks the encoding (declaration first,
// cross-checked against CharacterCodeIdentifier, which is ASCII in both
// encodings and so can be found before decoding), refuses DTDs and decodes
// the root element, which must be called root, into v.
func decodeDocument(raw []byte, maxSize int, root string, v any) (Source, error) {
	var src Source
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	if len(raw) > maxSize {
		return src, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(raw), maxSize)
	}
	enc, declared, err := detectEncoding(raw)
	if err != nil {
		return src, err
	}
	if m := charCodeTag.FindSubmatch(raw); m != nil {
		if idEnc, ok := encodingForCharacterCode(string(m[1])); ok && idEnc != enc {
			switch {
			case !declared:
				enc = idEnc
			default:
				if _, err := toUTF8(raw, enc); err != nil {
					src.Warnings = append(src.Warnings, fmt.Sprintf("declared %s but the bytes are %s, as CharacterCodeIdentifier %s says; read as %s", enc, idEnc, m[1], idEnc))
					enc = idEnc
				} else {
					src.Warnings = append(src.Warnings, fmt.Sprintf("CharacterCodeIdentifier %s says %s but the declaration says %s; read as %s", m[1], idEnc, enc, enc))
				}
			}
		}
	}
	text, err := toUTF8(raw, enc)
	if err != nil && !declared && enc == UTF8 {
		if t2, err2 := toUTF8(raw, ShiftJIS); err2 == nil {
			src.Warnings = append(src.Warnings, "no encoding declared and not UTF-8; read as Shift_JIS")
			text, err, enc = t2, nil, ShiftJIS
		}
	}
	if err != nil {
		return src, err
	}
	src.Encoding = enc
	d := xml.NewDecoder(bytes.NewReader(text))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if _, err := ParseEncoding(label); err != nil {
			return nil, err
		}
		return r, nil // already converted to UTF-8 above
	}
	g := &guard{d: d}
	td := xml.NewTokenDecoder(g)
	var start xml.StartElement
	for {
		tok, err := td.Token()
		if err != nil {
			if err == io.EOF {
				return src, fmt.Errorf("%w: no root element", ErrMalformed)
			}
			return src, wrapSyntax(err)
		}
		if s, ok := tok.(xml.StartElement); ok {
			start = s
			break
		}
	}
	if start.Name.Local != root {
		return src, fmt.Errorf("%w: root element is <%s>, want <%s>", ErrMalformed, start.Name.Local, root)
	}
	if err := td.DecodeElement(v, &start); err != nil {
		return src, wrapSyntax(err)
	}
	for {
		_, err := td.Token()
		if err == io.EOF {
			return src, nil
		}
		if err != nil {
			return src, wrapSyntax(err)
		}
	}
}

func wrapSyntax(err error) error {
	if errors.Is(err, ErrDTD) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupportedEncoding) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}
