package e2e

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os/exec"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/myna"
)

// requireOpenSC skips (fails in CI) when OpenSC's tools are missing.
func requireOpenSC(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"opensc-tool", "pkcs15-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			if isCI() {
				t.Fatalf("%s: %v", tool, errNoTool)
			}
			t.Skipf("skipping: %s not installed", tool)
		}
	}
}

func opensc(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestOpenSCAcceptsSimulator is the third-party acceptance: OpenSC's own
// JPKI driver, through pcscd and vpcd (reverse mode, loopback only), takes
// the simulator for a JPKI card and reads its user-authentication
// certificate.
func TestOpenSCAcceptsSimulator(t *testing.T) {
	requireOpenSC(t)
	img, path := defaultImage(t)
	s := startReverseMode(t, "--image", path)

	name := opensc(t, "opensc-tool", "--reader", s.reader, "--name")
	if !strings.EqualFold(strings.TrimSpace(name), "jpki") {
		t.Fatalf("opensc-tool --name: %q, want the JPKI driver", name)
	}

	list := opensc(t, "pkcs15-tool", "--reader", s.reader, "--list-certificates")
	if !strings.Contains(list, "User Authentication Certificate") {
		t.Fatalf("pkcs15-tool --list-certificates:\n%s", list)
	}

	pins := opensc(t, "pkcs15-tool", "--reader", s.reader, "--list-pins")
	if !strings.Contains(pins, "User Authentication PIN") || !strings.Contains(pins, "Tries left") {
		t.Errorf("pkcs15-tool --list-pins:\n%s", pins)
	}

	out := opensc(t, "pkcs15-tool", "--reader", s.reader, "--read-certificate", "1")
	block, _ := pem.Decode([]byte(out[strings.Index(out, "-----BEGIN"):]))
	if block == nil {
		t.Fatalf("no PEM in:\n%s", out)
	}
	want := imageObject(t, img, myna.JPKI, myna.JPKIAuthCert)
	if !bytes.Equal(block.Bytes, want) {
		t.Fatal("OpenSC's certificate 1 differs from the image's EF 000A")
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatalf("certificate does not parse: %v", err)
	}
}
