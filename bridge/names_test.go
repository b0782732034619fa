package bridge

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/mynakit/mynakit"
)

// constantsOf lists the names and values of the package's constants of
// type typ, from its source, so that none can be added unseen.
func constantsOf(t *testing.T, typ string) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
					continue
				}
				for _, n := range vs.Names {
					out[n.Name] = n.Name
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no constants of type %s found", typ)
	}
	return out
}

// english is an English word.
var english = regexp.MustCompile(`(^|\s)[A-Za-z]{3,}\b`)

// Every Data constant is described for the consent page in Japanese and
// English; a read part that has no Data is refused, never passed through.
func TestEveryDataIsDescribed(t *testing.T) {
	consts := constantsOf(t, "Data")
	if len(consts) != len(dataWords) {
		t.Errorf("%d Data constants, %d descriptions: %v", len(consts), len(dataWords), consts)
	}
	for d, w := range dataWords {
		hasJa := strings.ContainsFunc(w, func(r rune) bool { return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) })
		hasEn := english.MatchString(w)
		if !hasJa || !hasEn {
			t.Errorf("%s: not described in Japanese and English: %q", d, w)
		}
	}
	for _, p := range mynakit.AllParts() {
		d, ok := dataOfPart(p)
		if !ok || dataWords[d] == "" {
			t.Errorf("part %s has no described Data", p)
		}
	}
	for _, k := range []mynakit.CertKind{mynakit.CertAuth, mynakit.CertSign} {
		if dataWords[dataOfCertificate(k)] == "" {
			t.Errorf("certificate %s has no described Data", k)
		}
	}
	if got := describeData([]Data{"no-such-data"}); len(got) != 1 || !strings.Contains(got[0], "undescribed") {
		t.Errorf("an unknown Data is passed through quietly: %q", got)
	}
	_, data, err := ReadRequest{Parts: []string{"text", "surface", "common", "jpki"}, Photo: true, AgeRecord: true, ProveKey: true}.readOptions()
	if err != nil || len(data) != 7 {
		t.Fatalf("%v %v", data, err)
	}
	for _, d := range data {
		if dataWords[d] == "" {
			t.Errorf("a read logs %s, which has no description", d)
		}
	}
}

// The OpenAPI document's operation actions are the Action constants of
// operations, and every Action constant is either an operation's or one
// of the clinic mode's log entries.
func TestActionsMatchTheOpenAPIDocument(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var enums [][]Action
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if a, ok := v["action"].(map[string]any); ok {
				if e, ok := a["enum"].([]any); ok {
					var list []Action
					for _, s := range e {
						list = append(list, Action(s.(string)))
					}
					enums = append(enums, list)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(enums) == 0 {
		t.Fatal("the OpenAPI document lists no actions")
	}
	for _, e := range enums {
		if !reflect.DeepEqual(e, operationActions) {
			t.Errorf("OpenAPI actions %v, the bridge's %v", e, operationActions)
		}
	}
	clinic := []Action{ActionOQSFace, ActionOQSConfirm, ActionOQSFaceFolder, ActionRevealMyNumber} // log entries, not operations
	consts := constantsOf(t, "Action")
	if len(consts) != len(operationActions)+len(clinic) {
		t.Errorf("Action constants %v are neither operations %v nor clinic entries %v", consts, operationActions, clinic)
	}
	for _, a := range clinic {
		if slices.Contains(operationActions, a) {
			t.Errorf("%s is both", a)
		}
	}
}
