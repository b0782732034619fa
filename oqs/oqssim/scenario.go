package oqssim

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mynakit/mynakit/oqs"
)

//go:embed scenarios.yaml
var defaultScenarios []byte

// DefaultScenariosYAML is the built-in scenario file: one synthetic patient
// for every kind of answer. Copy it to start a file of one's own.
func DefaultScenariosYAML() []byte { return append([]byte(nil), defaultScenarios...) }

// Key is what a request is matched on: the search info of a 資格確認要求.
type Key struct {
	Insurer string `yaml:"insurer"`
	Symbol  string `yaml:"symbol"`
	Number  string `yaml:"number"`
	Branch  string `yaml:"branch"`
	Birth   string `yaml:"birth"`
}

func (k Key) normal() Key {
	return Key{Insurer: oqs.TrimInsurer(k.Insurer), Symbol: strings.TrimSpace(k.Symbol), Number: strings.TrimSpace(k.Number),
		Branch: strings.TrimSpace(k.Branch), Birth: strings.ReplaceAll(strings.TrimSpace(k.Birth), "-", "")}
}

// Scenario is one canned answer.
type Scenario struct {
	Name string `yaml:"name"`
	// Kind says what the scenario shows (valid, invalid, ...); free text.
	Kind  string `yaml:"kind"`
	Match Key    `yaml:"match"`
	// Segment is SegmentOfResult (default 1); with ErrorCode and
	// ErrorMessage it makes a whole-message failure.
	Segment      string `yaml:"segment"`
	ErrorCode    string `yaml:"error_code"`
	ErrorMessage string `yaml:"error_message"`
	// Status is ProcessingResultStatus (default 1), with its code and message.
	Status            string `yaml:"status"`
	ProcessingCode    string `yaml:"processing_code"`
	ProcessingMessage string `yaml:"processing_message"`
	// Validity is QualificationValidity (OQSCD006).
	Validity string `yaml:"validity"`
	// Results are ResultOfQualificationConfirmation elements.
	Results []oqs.Element `yaml:"-"`
	// Face are elements added to each result written to the face folder.
	Face []oqs.Element `yaml:"-"`

	RawResults []yaml.Node `yaml:"results"`
	RawFace    yaml.Node   `yaml:"face"`
}

// Scenarios is a loaded scenario file.
type Scenarios struct {
	List []Scenario `yaml:"scenarios"`
}

// ErrNoScenario is returned for a scenario name the file lacks.
var ErrNoScenario = errors.New("oqssim: no such scenario")

// ParseScenarios reads a scenario file in YAML or JSON (JSON is read as
// the YAML it is). Values keep their text exactly, so 00 stays 00.
func ParseScenarios(b []byte) (*Scenarios, error) {
	var s Scenarios
	if err := yaml.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	names := map[string]bool{}
	for i := range s.List {
		sc := &s.List[i]
		if sc.Name == "" {
			return nil, fmt.Errorf("scenarios: entry %d has no name", i+1)
		}
		if names[sc.Name] {
			return nil, fmt.Errorf("scenarios: %q appears twice", sc.Name)
		}
		names[sc.Name] = true
		for j := range sc.RawResults {
			kids, err := elements(&sc.RawResults[j], "ResultOfQualificationConfirmation")
			if err != nil {
				return nil, fmt.Errorf("scenario %s: result %d: %w", sc.Name, j+1, err)
			}
			sc.Results = append(sc.Results, oqs.Group("ResultOfQualificationConfirmation", kids...))
		}
		if sc.RawFace.Kind != 0 {
			kids, err := elements(&sc.RawFace, "ResultOfQualificationConfirmation")
			if err != nil {
				return nil, fmt.Errorf("scenario %s: face: %w", sc.Name, err)
			}
			sc.Face = kids
		}
		if sc.Validity == "" {
			sc.Validity = "4"
		}
	}
	return &s, nil
}

// LoadScenarios reads a scenario file; an empty path gives the built-in one.
func LoadScenarios(path string) (*Scenarios, error) {
	if path == "" {
		return ParseScenarios(defaultScenarios)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseScenarios(b)
}

// Find returns the scenario called name.
func (s *Scenarios) Find(name string) (*Scenario, error) {
	for i := range s.List {
		if s.List[i].Name == name {
			return &s.List[i], nil
		}
	}
	var names []string
	for _, sc := range s.List {
		names = append(names, sc.Name)
	}
	return nil, fmt.Errorf("%w: %q (have %s)", ErrNoScenario, name, strings.Join(names, ", "))
}

// Lookup returns the scenario whose key matches, or nil.
func (s *Scenarios) Lookup(k Key) *Scenario {
	k = k.normal()
	for i := range s.List {
		if s.List[i].Match.normal() == k {
			return &s.List[i]
		}
	}
	return nil
}

// listItems names the element each item of a list becomes.
var listItems = map[string]string{
	"SpecificDiseasesCertificateList": "SpecificDiseasesCertificateInfo",
	"PublicExpenseResultList":         "MedicalTicketInfo",
	"ResultList":                      "ResultOfQualificationConfirmation",
}

// elements turns a YAML mapping into child elements, keeping each
// scalar's text as written.
func elements(n *yaml.Node, parent string) ([]oqs.Element, error) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: %s must be a mapping of element names", n.Line, parent)
	}
	var out []oqs.Element
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		switch v.Kind {
		case yaml.ScalarNode:
			text := v.Value
			if v.Tag == "!!null" {
				text = ""
			}
			out = append(out, oqs.Leaf(name, text))
		case yaml.MappingNode:
			kids, err := elements(v, name)
			if err != nil {
				return nil, err
			}
			out = append(out, oqs.Group(name, kids...))
		case yaml.SequenceNode:
			item := listItems[name]
			if item == "" {
				return nil, fmt.Errorf("line %d: %s is not a list element", v.Line, name)
			}
			g := oqs.Group(name)
			for _, it := range v.Content {
				kids, err := elements(it, item)
				if err != nil {
					return nil, err
				}
				g.Children = append(g.Children, oqs.Group(item, kids...))
			}
			out = append(out, g)
		default:
			return nil, fmt.Errorf("line %d: %s: unsupported value", v.Line, name)
		}
	}
	return out, nil
}

// schemaOrder gives each known element's position under its parent, taken
// from the field order of the oqs package's model (which follows the
// interface's layout).
var schemaTypes = map[string]reflect.Type{
	"MessageHeader":                          reflect.TypeFor[oqs.ResultHeader](),
	"MessageBody":                            reflect.TypeFor[oqs.ResultBody](),
	"QualificationConfirmSearchInfo":         reflect.TypeFor[oqs.SearchInfo](),
	"ResultOfQualificationConfirmation":      reflect.TypeFor[oqs.Qualification](),
	"ElderlyRecipientCertificateInfo":        reflect.TypeFor[oqs.ElderlyRecipientCertificate](),
	"LimitApplicationCertificateRelatedInfo": reflect.TypeFor[oqs.LimitApplicationCertificate](),
	"SpecificDiseasesCertificateInfo":        reflect.TypeFor[oqs.SpecificDiseasesCertificate](),
	"MedicalTicketInfo":                      reflect.TypeFor[oqs.MedicalTicket](),
	"ReferenceNumberRegistrationInfo":        reflect.TypeFor[oqs.RegistrationInfo](),
}

func schemaIndex(parent, child string) int {
	t, ok := schemaTypes[parent]
	if !ok {
		return 0
	}
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("xml"), ",")[0]
		if tag == child {
			return i
		}
	}
	return t.NumField() // unknown elements last, in their given order
}

// substitute fills the placeholders a scenario may use: {now} and
// {now+24h} (YYYYMMDDHHmmss), {today} (YYYYMMDD), {month} (YYYYMM),
// {month-start} and {month-end} (YYYYMMDD).
func substitute(s string, now time.Time) string {
	if !strings.Contains(s, "{") {
		return s
	}
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	return strings.NewReplacer(
		"{now}", now.Format("20060102150405"),
		"{now+24h}", now.Add(24*time.Hour).Format("20060102150405"),
		"{today}", now.Format("20060102"),
		"{month}", now.Format("200601"),
		"{month-start}", first.Format("20060102"),
		"{month-end}", first.AddDate(0, 1, -1).Format("20060102"),
	).Replace(s)
}
