package cardap

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteSeeds regenerates the fuzz seed corpus in testdata/fuzz when
// MYNAKIT_WRITE_TESTDATA=1 (signatures use keys made for the run).
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("MYNAKIT_WRITE_TESTDATA") == "" {
		t.Skip("set MYNAKIT_WRITE_TESTDATA=1 to regenerate the seed corpus")
	}
	write := func(target string, args ...[]byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s := "go test fuzz v1\n"
		for _, a := range args {
			s += "[]byte(" + strconv.Quote(string(a)) + ")\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "seed0"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw := textRaw(t)
	write("FuzzParseText", raw.MyNumberEF, raw.Attributes, raw.Integrity, raw.CVCert, raw.SignedKey)
	face := faceRaw(t)
	write("FuzzParseSurface", face.Face, face.CVCert, face.AgeRecord, face.MyNumberImage, face.BasicInfo)
	write("FuzzParseCVCertificate", cvCert(t, testIssuer))
	write("FuzzParseCommon", append([]byte{0x01, 0x1C}, "4000000127198431322120350217"...))
	fmt.Println("seed corpus written")
}
