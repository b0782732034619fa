package docs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The documents a citation may name, by the path written in citations.
const (
	cardDoc = "docs/card.md"
	oqsDoc  = "docs/oqs.md"
)

// headingRe matches a numbered heading: "## 5. Cryptography",
// "### 5.9 Card-presence proof (券面 APs)".
var headingRe = regexp.MustCompile(`(?m)^#{2,4} (\d+(?:\.\d+)*)\.? `)

// sections returns the section numbers of a document's headings, in order.
func sections(text string) []string {
	var out []string
	for _, m := range headingRe.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// secNum is one section number in a citation; a range cites both ends.
const secNum = `§\s?\d+(?:\.\d+)*(?:\s?[-–]\s?§?\d+(?:\.\d+)*)?`

// citeRe matches a named citation and the list of sections after it:
// "docs/card.md §2.2-2.4, §5.4-5.9", "docs/oqs.md §2.2".
var citeRe = regexp.MustCompile(`(docs/card\.md|docs/oqs\.md)\s+(` + secNum + `(?:\s*(?:,|and|or)\s*` + secNum + `)*)`)

// bareRe matches any section sign with a number.
var bareRe = regexp.MustCompile(`§\s?(\d+(?:\.\d+)*)`)

// numRe pulls the numbers out of a citation's list.
var numRe = regexp.MustCompile(`\d+(?:\.\d+)*`)

// foreignRe matches sections of another document named just before them
// (RFC 8949 §4.2.1, RFC 5280 §5.2.5, §6.3.3, ISO/IEC 7816-4 §5.1).
var foreignRe = regexp.MustCompile(`(RFC\s?\d+|ISO(/IEC)?[\s\d-]*|JIS\s?X?[\s\d-]*|PKCS\s?#?\d+)\s*(` + secNum + `(?:\s*(?:,|and|or)\s*` + secNum + `)*)`)

// citation is one cited section.
type citation struct {
	line    int
	doc     string // cardDoc or oqsDoc
	section string
	text    string // what was written, for the message
}

// joined is a file's text with comment continuation lines joined, so that
// a citation broken across lines ("docs/card.md\n// §2.3") reads as one;
// lineAt maps an offset back to a 1-based line.
type joined struct {
	text   string
	starts []int // offset in text where each line begins
}

var commentLead = regexp.MustCompile(`^\s*(//|#+|\*|-)?\s*`)

func join(src string) joined {
	var b strings.Builder
	var j joined
	for i, line := range strings.Split(src, "\n") {
		if i > 0 {
			b.WriteByte(' ')
			line = commentLead.ReplaceAllString(line, "")
		}
		j.starts = append(j.starts, b.Len())
		b.WriteString(line)
	}
	j.text = b.String()
	return j
}

func (j joined) lineAt(off int) int {
	return sort.Search(len(j.starts), func(i int) bool { return j.starts[i] > off })
}

// citations finds every cited section in src. Citations that name a
// document resolve against it; a bare "§x.y" resolves against bareDoc
// (the document the surrounding text is about), unless a foreign document
// is named right before it.
func citations(src, bareDoc string) []citation {
	j := join(src)
	var out []citation
	var covered [][2]int
	for _, m := range citeRe.FindAllStringSubmatchIndex(j.text, -1) {
		doc := j.text[m[2]:m[3]]
		list := j.text[m[4]:m[5]]
		for _, n := range numRe.FindAllString(list, -1) {
			out = append(out, citation{line: j.lineAt(m[0]), doc: doc, section: n, text: j.text[m[0]:m[1]]})
		}
		covered = append(covered, [2]int{m[0], m[1]})
	}
	for _, m := range foreignRe.FindAllStringIndex(j.text, -1) {
		covered = append(covered, [2]int{m[0], m[1]})
	}
	for _, m := range bareRe.FindAllStringSubmatchIndex(j.text, -1) {
		inside := false
		for _, c := range covered {
			if m[0] >= c[0] && m[0] < c[1] {
				inside = true
			}
		}
		if inside {
			continue
		}
		out = append(out, citation{line: j.lineAt(m[0]), doc: bareDoc, section: j.text[m[2]:m[3]], text: j.text[m[0]:m[1]]})
	}
	return out
}

// forbidden are phrases no file of the repository may contain: citations in
// the old form, and references to documents outside the repository. They
// are assembled so that this file does not contain them.
var forbidden = []string{
	"card " + "reference §",
	"Card " + "reference §",
	"card-" + "reference.md",
	"oqs-" + "reference.md",
	"/work/" + "shared",
}

// sharedPathRe matches a path into the shared design folder that sits
// beside the repository ("shared/trust/…").
var sharedPathRe = regexp.MustCompile(`(^|[\s"'(\x60])` + "shared" + `/`)

// repoFiles lists every .go, .md, .sh, .js and .html file of the repository, skipping
// hidden directories.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while the walk ran
		}
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".sh", ".js", ".html":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// bareDocFor is the document a bare "§x.y" in a file is about: the oqs
// package and oqs.md itself cite the OQS document, everything else the card.
func bareDocFor(rel string) string {
	rel = filepath.ToSlash(rel)
	if rel == oqsDoc || strings.HasPrefix(rel, "oqs/") {
		return oqsDoc
	}
	return cardDoc
}

func loadSections(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	for _, doc := range []string{cardDoc, oqsDoc} {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(doc)))
		if err != nil {
			t.Fatal(err)
		}
		out[doc] = map[string]bool{}
		for _, s := range sections(string(b)) {
			out[doc][s] = true
		}
	}
	return out
}

// TestCitationsResolve: every section cited anywhere in the repository is a
// heading of the document it names, and no file refers to a document
// outside the repository.
func TestCitationsResolve(t *testing.T) {
	root := ".."
	secs := loadSections(t, root)
	n := 0
	for _, path := range repoFiles(t, root) {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel == "docs/docs_test.go" { // its own examples cite on purpose
			continue
		}
		src := string(b)
		for _, c := range citations(src, bareDocFor(rel)) {
			n++
			if !secs[c.doc][c.section] {
				t.Errorf("%s:%d: %q cites %s §%s, which has no such heading", rel, c.line, c.text, c.doc, c.section)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d citations found; the scanner is missing them", n)
	}
}

// TestHeadings: each document numbers its sections once each, in order, and
// the card document keeps the numbering the code has cited from the start
// (§0–§10 with their subsections).
func TestHeadings(t *testing.T) {
	for _, doc := range []string{cardDoc, oqsDoc} {
		b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(doc)))
		if err != nil {
			t.Fatal(err)
		}
		list := sections(string(b))
		seen := map[string]bool{}
		var prev []int
		for _, s := range list {
			if seen[s] {
				t.Errorf("%s: section %s appears twice", doc, s)
			}
			seen[s] = true
			cur := parseNum(s)
			if prev != nil && !less(prev, cur) {
				t.Errorf("%s: section %s follows %v", doc, s, prev)
			}
			prev = cur
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "docs", "card.md"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range sections(string(b)) {
		have[s] = true
	}
	want := map[int]int{0: 2, 1: 3, 2: 7, 3: 7, 4: 4, 5: 11, 6: 6, 7: 7, 8: 0, 9: 0, 10: 20}
	for top, subs := range want {
		if !have[strconv.Itoa(top)] {
			t.Errorf("card.md lacks §%d", top)
		}
		for i := 1; i <= subs; i++ {
			if s := strconv.Itoa(top) + "." + strconv.Itoa(i); !have[s] {
				t.Errorf("card.md lacks §%s", s)
			}
		}
	}
}

func parseNum(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ".") {
		v, _ := strconv.Atoi(p)
		out = append(out, v)
	}
	return out
}

func less(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// TestScanner checks the scanner itself on known text: it must find
// citations broken across comment lines, lists and ranges, skip sections
// of foreign documents, and report a section that does not exist.
func TestScanner(t *testing.T) {
	src := "// Package x reads files (docs/card.md §2.2-2.4,\n" +
		"// §5.9) and the chain (docs/card.md\n" +
		"// §2.6); see also §8 and RFC 8949 §4.2.1, RFC 5280 §5.2.5, §6.3.3,\n" +
		"// ISO/IEC 7816-4 §5.1.\n" +
		"// The result header (docs/oqs.md §2.2).\n"
	var got []string
	for _, c := range citations(src, cardDoc) {
		got = append(got, c.doc+" "+c.section+" @"+strconv.Itoa(c.line))
	}
	want := []string{
		"docs/card.md 2.2 @1", "docs/card.md 2.4 @1", "docs/card.md 5.9 @1",
		"docs/card.md 2.6 @2", "docs/oqs.md 2.2 @5", "docs/card.md 8 @3",
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("citations:\n got %v\nwant %v", got, want)
	}
	secs := map[string]bool{"2.2": true}
	var dangling []string
	for _, c := range citations("// docs/card.md §2.2, §11.1\n// (§3.99)", cardDoc) {
		if !secs[c.section] {
			dangling = append(dangling, c.section)
		}
	}
	if strings.Join(dangling, " ") != "11.1 3.99" {
		t.Errorf("dangling sections found: %v, want 11.1 3.99", dangling)
	}
	if got := sections("# Title\n## 3. Three\n### 3.1 One\n#### not numbered\n### 3.10 Ten\n"); strings.Join(got, " ") != "3 3.1 3.10" {
		t.Errorf("sections = %v", got)
	}
	if !sharedPathRe.MatchString("see shared/trust/x.json") || sharedPathRe.MatchString("a preshared/key") {
		t.Error("shared-path pattern")
	}
	if bareDocFor("oqs/model.go") != oqsDoc || bareDocFor("docs/oqs.md") != oqsDoc || bareDocFor("cardap/text.go") != cardDoc {
		t.Error("bare citations resolve against the wrong document")
	}
}

// TestNoOutsideDocuments: no file cites the card or OQS notes that lived
// outside the repository, names them, or points into the shared design
// folder; citations go to docs/card.md and docs/oqs.md.
func TestNoOutsideDocuments(t *testing.T) {
	root := ".."
	for _, path := range repoFiles(t, root) {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel == "docs/docs_test.go" {
			continue
		}
		src := string(b)
		for _, f := range forbidden {
			if i := strings.Index(src, f); i >= 0 {
				t.Errorf("%s:%d: %q refers to a document outside the repository; cite docs/card.md or docs/oqs.md", rel, strings.Count(src[:i], "\n")+1, f)
			}
		}
		if loc := sharedPathRe.FindStringIndex(src); loc != nil {
			t.Errorf("%s:%d: a path under shared/ is outside the repository", rel, strings.Count(src[:loc[0]], "\n")+1)
		}
	}
}
