package oqs

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeListsEveryCodeTable keeps the code tables and their evidence
// tags in oqs/README.md in step with the code.
func TestReadmeListsEveryCodeTable(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, s := range CodeSets() {
		row := "`" + s.Element + "` " + s.Japanese + " |"
		i := strings.Index(readme, row)
		if i < 0 {
			t.Errorf("README lacks the %s table", s.Element)
			continue
		}
		line := readme[i:]
		line = line[:strings.Index(line, "\n")]
		if !strings.HasSuffix(line, "| "+s.Evidence+" |") {
			t.Errorf("%s: README row does not end with its evidence %q:\n%s", s.Element, s.Evidence, line)
		}
		for _, c := range s.Codes {
			if !strings.Contains(line, "`"+c.Value+"` "+c.Japanese) {
				t.Errorf("%s: README lacks %s %s", s.Element, c.Value, c.Japanese)
			}
		}
	}
}
