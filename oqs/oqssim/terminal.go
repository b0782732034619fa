// Package oqssim is a simulated 資格確認端末 (the clinic's online eligibility
// terminal) for tests and development: it watches the req folder of a share
// root, answers 資格確認要求 and 照会番号登録要求 in res from a table of
// synthetic scenarios, writes face-folder results on demand as the real
// terminal does after a card is presented at the face-recognition reader,
// and can misbehave in the ways clinic software must survive (latency, no
// answer, slow partial writes, shuffled or missing elements, duplicates,
// files moved away). What it imitates, and what is reconstructed, is in
// oqs/README.md.
package oqssim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mynakit/mynakit/internal/atomicfile"
	"github.com/mynakit/mynakit/oqs"
)

// Faults make the terminal misbehave.
type Faults struct {
	// Latency delays every answer.
	Latency time.Duration
	// NeverAnswer consumes requests and writes nothing back.
	NeverAnswer bool
	// SlowWrite writes answers straight into their final names in chunks of
	// SlowChunk bytes (default 256), pausing this long between chunks, so
	// readers see partial files.
	SlowWrite time.Duration
	SlowChunk int
	// Shuffle puts elements in random order at every level.
	Shuffle bool
	// OmitOptional leaves out empty elements and the optional header and
	// body elements (ProcessExecutionTime, ReferenceClassification,
	// CharacterCodeIdentifier, the search-info echo).
	OmitOptional bool
	// Duplicate writes every result twice: in res the same name again once
	// it is complete; in face a second file with the same bytes.
	Duplicate bool
	// MoveAway moves every written file into trash MoveAfter after it is
	// complete, as an EMR that tidies the share does.
	MoveAway  bool
	MoveAfter time.Duration
}

// Config sets up a Terminal.
type Config struct {
	// Root is the share root; req, res, face and trash are made in it.
	Root string
	// Scenarios answer requests (default: the built-in ones).
	Scenarios *Scenarios
	// Encoding of answers and face files (default UTF-8, which the
	// published samples use).
	Encoding oqs.Encoding
	// EncodingSet must be true for Encoding to be used; it lets the zero
	// Config mean UTF-8.
	EncodingSet bool
	// MedicalInstitutionCode is the terminal's own 医療機関コード, written
	// into face files (default 1399999999, which is synthetic).
	MedicalInstitutionCode string
	// Poll is how often req is scanned (default 200ms).
	Poll   time.Duration
	Faults Faults
	// Seed makes shuffles repeatable (0: random).
	Seed uint64
	// StateDir keeps registrations (default Root/.oqssim).
	StateDir string
	Logger   *log.Logger
	Now      func() time.Time
}

// DefaultMIC is the simulated terminal's 医療機関コード unless told otherwise.
const DefaultMIC = "1399999999"

// Terminal is the simulated terminal.
type Terminal struct {
	cfg Config
	mu  sync.Mutex
	rng *mrand.Rand
	// handled counts requests consumed, by name.
	handled map[string]int
}

// New prepares the folders under cfg.Root.
func New(cfg Config) (*Terminal, error) {
	if cfg.Root == "" {
		return nil, errors.New("oqssim: Config.Root is required")
	}
	if cfg.Scenarios == nil {
		s, err := LoadScenarios("")
		if err != nil {
			return nil, err
		}
		cfg.Scenarios = s
	}
	if !cfg.EncodingSet {
		cfg.Encoding = oqs.UTF8
	}
	if cfg.MedicalInstitutionCode == "" {
		cfg.MedicalInstitutionCode = DefaultMIC
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.Faults.SlowChunk <= 0 {
		cfg.Faults.SlowChunk = 256
	}
	if cfg.StateDir == "" {
		cfg.StateDir = filepath.Join(cfg.Root, ".oqssim")
	}
	if cfg.Logger == nil {
		cfg.Logger = log.New(io.Discard, "", 0)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, d := range []string{oqs.DirRequests, oqs.DirResults, oqs.DirFace, oqs.DirTrash} {
		if err := os.MkdirAll(filepath.Join(cfg.Root, d), 0o755); err != nil {
			return nil, err
		}
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = mrand.Uint64()
	}
	return &Terminal{cfg: cfg, rng: mrand.New(mrand.NewPCG(seed, seed>>1|1)), handled: map[string]int{}}, nil
}

// Handled returns how many times each request name was consumed: a test
// sees a duplicate submission as a name consumed twice or an extra name.
func (t *Terminal) Handled() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.handled))
	for k, v := range t.handled {
		out[k] = v
	}
	return out
}

// Run answers requests until ctx ends, then waits for answers under way.
func (t *Terminal) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	last := map[string][]byte{}
	tick := time.NewTicker(t.cfg.Poll)
	defer tick.Stop()
	dir := filepath.Join(t.cfg.Root, oqs.DirRequests)
	for {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("oqssim: %w", err)
		}
		present := map[string]bool{}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(strings.ToLower(n), ".xml") {
				continue // temporary names are not requests yet
			}
			present[n] = true
			p := filepath.Join(dir, n)
			// Files on the share are hostile: regular files only, bounded
			// in size and time.
			b, err := oqs.ReadShareFile(ctx, p, 0, 0)
			if err != nil {
				continue
			}
			if prev, ok := last[n]; !ok || !bytes.Equal(prev, b) {
				last[n] = b // read again next time: it may still be growing
				continue
			}
			delete(last, n)
			if err := os.Remove(p); err != nil {
				t.cfg.Logger.Printf("consume %s: %v", n, err)
				continue
			}
			t.mu.Lock()
			t.handled[n]++
			t.mu.Unlock()
			t.cfg.Logger.Printf("consumed %s", n)
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.answer(ctx, n, b)
			}()
		}
		for n := range last {
			if !present[n] {
				delete(last, n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// answer builds and writes the result of one request.
func (t *Terminal) answer(ctx context.Context, name string, b []byte) {
	if t.cfg.Faults.NeverAnswer {
		t.cfg.Logger.Printf("%s: never answering (fault)", name)
		return
	}
	resName, err := oqs.ResultName(name)
	if err != nil {
		t.cfg.Logger.Printf("%s: not a request name; left unanswered", name)
		return
	}
	if t.cfg.Faults.Latency > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.cfg.Faults.Latency):
		}
	}
	now := t.cfg.Now()
	var doc oqs.Element
	switch k, _ := oqs.KindOf(name); k {
	case oqs.KindConfirmRequest:
		doc = t.confirmAnswer(b, now)
	case oqs.KindRegistrationRequest:
		doc = t.registrationAnswer(b, now)
	default:
		doc = t.errorAnswer(b, now, "E-SIM-UNSUPPORTED", "この種類の要求は模擬端末では扱いません (request kind not simulated)")
	}
	data, err := t.encode(doc)
	if err != nil {
		t.cfg.Logger.Printf("%s: %v", name, err)
		return
	}
	if err := t.write(ctx, filepath.Join(t.cfg.Root, oqs.DirResults), resName, data); err != nil {
		t.cfg.Logger.Printf("%s: %v", resName, err)
		return
	}
	t.cfg.Logger.Printf("answered %s", resName)
}

var (
	micTag = regexp.MustCompile(`<MedicalInstitutionCode>([^<]*)</MedicalInstitutionCode>`)
	afiTag = regexp.MustCompile(`<ArbitraryFileIdentifier>([^<]*)</ArbitraryFileIdentifier>`)
)

// errorAnswer is a whole-message failure (SegmentOfResult 9). The codes
// are the simulator's own: real ones are not public.
func (t *Terminal) errorAnswer(req []byte, now time.Time, code, msg string) oqs.Element {
	var mic, afi string
	if m := micTag.FindSubmatch(req); m != nil {
		mic = string(m[1])
	}
	if m := afiTag.FindSubmatch(req); m != nil {
		afi = string(m[1])
	}
	h := oqs.Group("MessageHeader",
		oqs.Leaf("ProcessExecutionTime", now.Format("20060102150405")),
		oqs.Leaf("QualificationConfirmationDate", now.Format("20060102")),
		oqs.Leaf("MedicalInstitutionCode", mic),
		oqs.Leaf("ArbitraryFileIdentifier", afi),
		oqs.Leaf("SegmentOfResult", "9"),
		oqs.Leaf("ErrorCode", code),
		oqs.Leaf("ErrorMessage", msg),
		oqs.Leaf("CharacterCodeIdentifier", t.cfg.Encoding.CharacterCode()))
	return oqs.Group("XmlMsg", h, oqs.Group("MessageBody"))
}

func (t *Terminal) confirmAnswer(b []byte, now time.Time) oqs.Element {
	req, err := oqs.ParseConfirmRequest(b)
	if err != nil {
		return t.errorAnswer(b, now, "E-SIM-MALFORMED", "要求ファイルを読めません (malformed request): "+err.Error())
	}
	si := req.Body.SearchInfo
	sc := t.cfg.Scenarios.Lookup(Key{Insurer: si.InsurerNumber, Symbol: si.InsuredCardSymbol, Number: si.InsuredIdentificationNumber,
		Branch: si.InsuredBranchNumber, Birth: si.Birthdate})
	if sc == nil {
		sc = &Scenario{Name: "(none)", Validity: "4"}
	}
	date := req.Header.QualificationConfirmationDate
	if date == "" {
		date = now.Format("20060102")
	}
	h := t.header(sc, now, date, req.Header.MedicalInstitutionCode, req.Header.ArbitraryFileIdentifier, "2")
	echo := si
	body := t.body(sc, now, &echo, si.LimitApplicationCertificateRelatedConsFlg, nil)
	return oqs.Group("XmlMsg", h, body)
}

func (t *Terminal) header(sc *Scenario, now time.Time, date, mic, afi, refClass string) oqs.Element {
	seg := sc.Segment
	if seg == "" {
		seg = "1"
	}
	kids := []oqs.Element{
		oqs.Leaf("ProcessExecutionTime", now.Format("20060102150405")),
		oqs.Leaf("QualificationConfirmationDate", date),
		oqs.Leaf("MedicalInstitutionCode", mic),
		oqs.Leaf("ArbitraryFileIdentifier", afi),
		oqs.Leaf("ReferenceClassification", refClass),
		oqs.Leaf("SegmentOfResult", seg),
	}
	if sc.ErrorCode != "" || sc.ErrorMessage != "" {
		kids = append(kids, oqs.Leaf("ErrorCode", sc.ErrorCode), oqs.Leaf("ErrorMessage", sc.ErrorMessage))
	}
	kids = append(kids, oqs.Leaf("CharacterCodeIdentifier", t.cfg.Encoding.CharacterCode()))
	return oqs.Group("MessageHeader", kids...)
}

// body builds MessageBody from a scenario. consent is the request's
// 限度額 consent flag: without it the 限度額 information is left out.
func (t *Terminal) body(sc *Scenario, now time.Time, echo *oqs.SearchInfo, consent string, extra []oqs.Element) oqs.Element {
	status := sc.Status
	if status == "" {
		status = "1"
	}
	kids := []oqs.Element{oqs.Leaf("ProcessingResultStatus", status)}
	if sc.ProcessingCode != "" || sc.ProcessingMessage != "" {
		kids = append(kids, oqs.Leaf("ProcessingResultCode", sc.ProcessingCode), oqs.Leaf("ProcessingResultMessage", sc.ProcessingMessage))
	}
	kids = append(kids, oqs.Leaf("QualificationValidity", sc.Validity))
	if echo != nil {
		kids = append(kids, echo.Element())
	}
	if len(sc.Results) > 0 {
		list := oqs.Group("ResultList")
		for _, r := range sc.Results {
			q := t.qualification(r, now, consent, extra)
			list.Children = append(list.Children, q)
		}
		kids = append(kids, list)
	}
	return oqs.Group("MessageBody", kids...)
}

// qualification fills one result: placeholders, the insurer number padded
// to 8 as the terminal sends it, the consent flag, and extra elements.
func (t *Terminal) qualification(r oqs.Element, now time.Time, consent string, extra []oqs.Element) oqs.Element {
	q := deepCopy(r)
	q.Children = append(q.Children, deepCopy(oqs.Group("", extra...)).Children...)
	var kept []oqs.Element
	seen := map[string]bool{}
	for _, c := range q.Children {
		if seen[c.Name] && len(c.Children) == 0 {
			// a face addition overrides the scenario's own value
			for i := range kept {
				if kept[i].Name == c.Name {
					kept[i] = c
				}
			}
			continue
		}
		seen[c.Name] = true
		switch c.Name {
		case "InsurerNumber":
			c.Text = oqs.PadInsurer(c.Text)
		case "LimitApplicationCertificateRelatedConsFlg":
			if consent != "" {
				c.Text = consent
			}
		case "LimitApplicationCertificateRelatedInfo", "LimitApplicationCertificateRelatedConsTime":
			if consent != "" && consent != "1" {
				continue
			}
		}
		kept = append(kept, c)
	}
	q.Children = kept
	fill(&q, now)
	return q
}

func fill(e *oqs.Element, now time.Time) {
	e.Text = substitute(e.Text, now)
	for i := range e.Children {
		fill(&e.Children[i], now)
	}
}

func deepCopy(e oqs.Element) oqs.Element {
	c := oqs.Element{Name: e.Name, Text: e.Text}
	for _, k := range e.Children {
		c.Children = append(c.Children, deepCopy(k))
	}
	return c
}

// Registrations are kept in the state directory so face files written by
// another process (mynakit sim oqs face) carry the 照会番号.
type registration struct {
	MIC, Insurer, Symbol, Number, Branch, Reference string
}

func (t *Terminal) registrationsPath() string {
	return filepath.Join(t.cfg.StateDir, "registrations.json")
}

func (t *Terminal) loadRegistrations() []registration {
	var rs []registration
	if b, err := os.ReadFile(t.registrationsPath()); err == nil {
		_ = json.Unmarshal(b, &rs)
	}
	return rs
}

func (t *Terminal) registrationAnswer(b []byte, now time.Time) oqs.Element {
	req, err := oqs.ParseRegistrationRequest(b)
	if err != nil {
		return t.errorAnswer(b, now, "E-SIM-MALFORMED", "要求ファイルを読めません (malformed request): "+err.Error())
	}
	in := req.Body.Info
	r := registration{MIC: req.Header.MedicalInstitutionCode, Insurer: oqs.TrimInsurer(in.InsurerNumber), Symbol: strings.TrimSpace(in.InsuredCardSymbol),
		Number: strings.TrimSpace(in.InsuredIdentificationNumber), Branch: strings.TrimSpace(in.InsuredBranchNumber), Reference: strings.TrimSpace(in.ReferenceNumber)}
	t.mu.Lock()
	rs := t.loadRegistrations()
	replaced := false
	for i := range rs {
		if rs[i].MIC == r.MIC && rs[i].Insurer == r.Insurer && rs[i].Symbol == r.Symbol && rs[i].Number == r.Number && rs[i].Branch == r.Branch {
			rs[i], replaced = r, true
		}
	}
	if !replaced {
		rs = append(rs, r)
	}
	err = os.MkdirAll(t.cfg.StateDir, 0o755)
	if err == nil {
		js, _ := json.MarshalIndent(rs, "", "  ")
		err = os.WriteFile(t.registrationsPath(), js, 0o644)
	}
	t.mu.Unlock()
	if err != nil {
		t.cfg.Logger.Printf("keep registration: %v", err)
	}
	h := oqs.Group("MessageHeader",
		oqs.Leaf("ProcessExecutionTime", now.Format("20060102150405")),
		oqs.Leaf("CharacterCodeIdentifier", t.cfg.Encoding.CharacterCode()),
		oqs.Leaf("SegmentOfResult", "1"),
		oqs.Leaf("ArbitraryFileIdentifier", req.Header.ArbitraryFileIdentifier),
		oqs.Leaf("MedicalInstitutionCode", req.Header.MedicalInstitutionCode))
	info := in
	return oqs.Group("XmlMsg", h, oqs.Group("MessageBody", info.Element(), oqs.Leaf("ProcessingResultStatus", "1")))
}

// referenceFor finds the 照会番号 registered for a result's card data.
func (t *Terminal) referenceFor(mic string, q oqs.Element) string {
	get := func(n string) string {
		if c, ok := q.Child(n); ok {
			return strings.TrimSpace(c.Text)
		}
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.loadRegistrations() {
		if r.MIC == mic && r.Insurer == oqs.TrimInsurer(get("InsurerNumber")) && r.Symbol == get("InsuredCardSymbol") &&
			r.Number == get("InsuredIdentificationNumber") && r.Branch == get("InsuredBranchNumber") {
			return r.Reference
		}
	}
	return ""
}

// encode orders (or shuffles) the elements, drops optional ones if told,
// and writes the document in the terminal's encoding.
func (t *Terminal) encode(doc oqs.Element) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	arrange(&doc, t.cfg.Faults.Shuffle, t.cfg.Faults.OmitOptional, t.rng)
	return oqs.EncodeDocument(doc, t.cfg.Encoding)
}

// Optional elements the OmitOptional fault leaves out besides empty ones.
var omittable = map[string]bool{
	"ProcessExecutionTime": true, "ReferenceClassification": true, "CharacterCodeIdentifier": true,
	"QualificationConfirmSearchInfo": true,
}

// Elements that stay even when empty, since they carry meaning.
var keepEmpty = map[string]bool{"MessageBody": true, "MessageHeader": true, "ArbitraryFileIdentifier": true, "MedicalInstitutionCode": true}

func arrange(e *oqs.Element, shuffle, omit bool, rng *mrand.Rand) {
	if omit {
		var kept []oqs.Element
		for _, c := range e.Children {
			empty := len(c.Children) == 0 && strings.TrimSpace(c.Text) == ""
			if (empty && !keepEmpty[c.Name]) || omittable[c.Name] {
				continue
			}
			kept = append(kept, c)
		}
		e.Children = kept
	}
	for i := range e.Children {
		arrange(&e.Children[i], shuffle, omit, rng)
	}
	if shuffle {
		rng.Shuffle(len(e.Children), func(i, j int) { e.Children[i], e.Children[j] = e.Children[j], e.Children[i] })
		return
	}
	parent := e.Name
	sort.SliceStable(e.Children, func(i, j int) bool {
		return schemaIndex(parent, e.Children[i].Name) < schemaIndex(parent, e.Children[j].Name)
	})
}

// write puts a file into dir: normally a temporary name then a rename;
// with SlowWrite straight into the final name, chunk by chunk. Then the
// Duplicate and MoveAway faults.
func (t *Terminal) write(ctx context.Context, dir, name string, data []byte) error {
	final := filepath.Join(dir, name)
	f := t.cfg.Faults
	if err := t.writeOnce(ctx, dir, name, data); err != nil {
		return err
	}
	if f.Duplicate && filepath.Base(dir) == oqs.DirResults {
		if err := t.writeOnce(ctx, dir, name, data); err != nil {
			return err
		}
	}
	if f.MoveAway {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(f.MoveAfter):
		}
		if err := os.Rename(final, filepath.Join(t.cfg.Root, oqs.DirTrash, name)); err != nil {
			return fmt.Errorf("move away: %w", err)
		}
		t.cfg.Logger.Printf("moved %s into %s (fault)", name, oqs.DirTrash)
	}
	return nil
}

func (t *Terminal) writeOnce(ctx context.Context, dir, name string, data []byte) error {
	final := filepath.Join(dir, name)
	f := t.cfg.Faults
	if f.SlowWrite <= 0 {
		return atomicfile.Publish(dir, name, data, 0o644)
	}
	// Written in place, slowly (the fault), but never through a link.
	if fi, err := os.Lstat(final); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("oqssim: %s is not a regular file", final)
	}
	out, err := os.OpenFile(final, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	for off := 0; off < len(data); off += f.SlowChunk {
		end := min(off+f.SlowChunk, len(data))
		if _, err := out.Write(data[off:end]); err != nil {
			return err
		}
		if end < len(data) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(f.SlowWrite):
			}
		}
	}
	return out.Close()
}

// EmitFace writes a face-folder result for the named scenario, as the
// terminal does after a card is presented at the face-recognition reader,
// and returns the file's path (where it was written, before any MoveAway).
func (t *Terminal) EmitFace(ctx context.Context, scenario string) (string, error) {
	sc, err := t.cfg.Scenarios.Find(scenario)
	if err != nil {
		return "", err
	}
	now := t.cfg.Now()
	mic := t.cfg.MedicalInstitutionCode
	var fid [12]byte
	_, _ = rand.Read(fid[:])
	var tag [10]byte
	_, _ = rand.Read(tag[:])
	h := t.header(sc, now, now.Format("20060102"), mic, base64.StdEncoding.EncodeToString(fid[:]), "1")
	body := t.body(sc, now, nil, "", sc.Face)
	if list, ok := body.Child("ResultList"); ok {
		for i := range list.Children {
			if ref := t.referenceFor(mic, list.Children[i]); ref != "" {
				list.Children[i].Children = append(list.Children[i].Children, oqs.Leaf("ReferenceNumber", ref))
			}
		}
	}
	data, err := t.encode(oqs.Group("XmlMsg", h, body))
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s%s%s_%s.xml", oqs.PrefixFaceResult, mic, hex.EncodeToString(tag[:]), now.Format("20060102150405"))
	dir := filepath.Join(t.cfg.Root, oqs.DirFace)
	if t.cfg.Faults.Duplicate {
		// The same bytes under a second name, written first so a reader
		// may meet either.
		var tag2 [10]byte
		_, _ = rand.Read(tag2[:])
		dup := fmt.Sprintf("%s%s%s_%s.xml", oqs.PrefixFaceResult, mic, hex.EncodeToString(tag2[:]), now.Format("20060102150405"))
		if err := t.writeOnce(ctx, dir, dup, data); err != nil {
			return "", err
		}
	}
	if err := t.write(ctx, dir, name, data); err != nil {
		return "", err
	}
	t.cfg.Logger.Printf("face result %s (%s)", name, sc.Name)
	return filepath.Join(dir, name), nil
}
