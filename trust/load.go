package trust

import (
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

//go:embed anchors/*.pem anchors/*.json
var anchorFiles embed.FS

// embeddedRoots names each J-LIS root file (docs/card.md §5.3).
var embeddedRoots = map[string]string{
	"jlis-auth_ca_2015.pem": "J-LIS JPKI user-authentication CA gen 1 (2015, embedded)",
	"jlis-auth_ca_2019.pem": "J-LIS JPKI user-authentication CA gen 2 (2019, embedded)",
	"jlis-auth_ca_2023.pem": "J-LIS JPKI user-authentication CA gen 3 (2023, embedded)",
	"jlis-sign_ca_2015.pem": "J-LIS JPKI signing CA gen 1 (2015, embedded)",
	"jlis-sign_ca_2019.pem": "J-LIS JPKI signing CA gen 2 (2019, embedded)",
	"jlis-sign_ca_2023.pem": "J-LIS JPKI signing CA gen 3 (2023, embedded)",
}

var (
	embeddedOnce  sync.Once
	embeddedStore *Store
	jpkiTestKeys  []CVKey
	embeddedErr   error
)

func loadEmbedded() {
	s := &Store{}
	names := make([]string, 0, len(embeddedRoots))
	for n := range embeddedRoots {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := anchorFiles.ReadFile("anchors/" + n)
		if err != nil {
			embeddedErr = err
			return
		}
		certs, err := parsePEMCerts(b)
		if err != nil || len(certs) != 1 {
			embeddedErr = fmt.Errorf("embedded anchor %s: %v", n, err)
			return
		}
		role := CertRoleAuth
		if strings.HasPrefix(n, "jlis-sign_") {
			role = CertRoleSign
		}
		if CertRoleOf(certs[0]) != role {
			embeddedErr = fmt.Errorf("embedded anchor %s: its subject does not name the role its file does", n)
			return
		}
		s.AddRootRole(certs[0], Anchor{Name: embeddedRoots[n], Production: true}, role)
	}
	b, err := anchorFiles.ReadFile("anchors/jlis-cv-ca-keys.json")
	if err != nil {
		embeddedErr = err
		return
	}
	keys, err := parseCVKeys(b, "embedded")
	if err != nil {
		embeddedErr = err
		return
	}
	for _, k := range keys {
		if k.Anchor.Production {
			s.AddCVKey(k)
		} else {
			jpkiTestKeys = append(jpkiTestKeys, k)
		}
	}
	embeddedStore = s
}

// Embedded returns a new store with the J-LIS production anchors: the six
// JPKI roots and the three production CV CA keys. The JPKI-TEST CV keys are
// not in it (see AddJPKITest).
func Embedded() *Store {
	embeddedOnce.Do(loadEmbedded)
	if embeddedErr != nil {
		// The anchors are compiled in; failing to parse them is a build defect.
		panic("trust: embedded anchors: " + embeddedErr.Error())
	}
	return embeddedStore.Clone()
}

// AddJPKITest adds the CV CA keys of J-LIS's JPKI-TEST hierarchy (test
// cards, O=JPKI-TEST). Verdicts resting on them name them as test anchors.
func (s *Store) AddJPKITest() {
	embeddedOnce.Do(loadEmbedded)
	for _, k := range jpkiTestKeys {
		s.AddCVKey(k)
	}
}

// AddPEM adds every certificate in a PEM file as a root named after source.
func (s *Store) AddPEM(b []byte, source string) error {
	certs, err := parsePEMCerts(b)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if len(certs) == 0 {
		return fmt.Errorf("%s: no certificate", source)
	}
	for _, c := range certs {
		s.AddRoot(c, Anchor{Name: fmt.Sprintf("%s root (%s)", shortName(c), source)})
	}
	return nil
}

// AddCVKeysJSON adds CV CA keys in the form of jlis-cv-ca-keys.json.
func (s *Store) AddCVKeysJSON(b []byte, source string) error {
	keys, err := parseCVKeys(b, source)
	if err != nil {
		return err
	}
	for _, k := range keys {
		s.AddCVKey(k)
	}
	return nil
}

// AddDir adds every *.pem (roots) and *.json (CV CA keys) in dir.
func (s *Store) AddDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("trust dir: %w", err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".pem", ".crt":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := s.AddPEM(b, "trust-dir "+path); err != nil {
				return err
			}
			n++
		case ".json":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := s.AddCVKeysJSON(b, "trust-dir "+path); err != nil {
				return err
			}
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("trust dir %s: no *.pem or *.json anchors", dir)
	}
	return nil
}

func parsePEMCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return out, nil
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

type cvKeyFile struct {
	Keys []struct {
		KeyIDASCII  string `json:"key_id_ascii"`
		KeyIDHex    string `json:"key_id_hex"`
		Hierarchy   string `json:"hierarchy"`
		Role        string `json:"role"`
		ExponentHex string `json:"exponent_hex"`
		ModulusHex  string `json:"modulus_hex"`
	} `json:"keys"`
}

func parseCVKeys(b []byte, source string) ([]CVKey, error) {
	var f cvKeyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("CV CA keys (%s): %w", source, err)
	}
	var out []CVKey
	for i, k := range f.Keys {
		id, err := hex.DecodeString(k.KeyIDHex)
		if err != nil || len(id) != 16 {
			return nil, fmt.Errorf("CV CA keys (%s): key %d: key_id_hex must be 16 bytes", source, i)
		}
		mod, err := hex.DecodeString(k.ModulusHex)
		if err != nil || len(mod) < 128 {
			return nil, fmt.Errorf("CV CA keys (%s): key %d: bad modulus", source, i)
		}
		exp, err := hex.DecodeString(k.ExponentHex)
		if err != nil || len(exp) == 0 || len(exp) > 4 {
			return nil, fmt.Errorf("CV CA keys (%s): key %d: bad exponent", source, i)
		}
		e := 0
		for _, c := range exp {
			e = e<<8 | int(c)
		}
		var cv CVKey
		copy(cv.ID[:], id)
		if cv.Role = ParseCVRole(k.Role); cv.Role == RoleUnknown {
			return nil, fmt.Errorf("CV CA keys (%s): key %d: role %q is none of card-chain, surface, text", source, i, k.Role)
		}
		cv.Public = &rsa.PublicKey{N: new(big.Int).SetBytes(mod), E: e}
		prod := k.Hierarchy == "production"
		label := "test"
		if prod {
			label = "J-LIS"
		}
		cv.Anchor = Anchor{Name: fmt.Sprintf("%s CV CA %s, %s (%s)", label, KeyIDString(id), k.Role, source), Production: prod && source == "embedded"}
		out = append(out, cv)
	}
	return out, nil
}

// KeyIDString prints a 16-byte key ID as NNNNNNN/GGG (docs/card.md §2.7),
// or as hex when it does not have that layout.
func KeyIDString(id []byte) string {
	printable := func(b []byte) bool {
		for _, c := range b {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if len(id) == 16 && printable(id[:7]) && printable(id[9:12]) {
		return string(id[:7]) + "/" + string(id[9:12])
	}
	return hex.EncodeToString(id)
}

// shortName names a root by organisation and first organisational unit
// ("JPKI-SIM, JPKI for digital signature"), or its common name.
func shortName(c *x509.Certificate) string {
	var parts []string
	parts = append(parts, c.Subject.Organization...)
	if len(c.Subject.OrganizationalUnit) > 0 {
		parts = append(parts, c.Subject.OrganizationalUnit[0])
	}
	if len(parts) == 0 {
		return c.Subject.CommonName
	}
	return strings.Join(parts, ", ")
}
