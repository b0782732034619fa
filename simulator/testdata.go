package simulator

import (
	"embed"
	"io/fs"
)

// testData holds the simulator's fixed test material: the RSA keys of its
// own J-LIS-like test hierarchy (testdata/keys, PKCS#8 PEM), the public
// trust files derived from them (testdata/trust) and the default photo
// (testdata/photo). simulator/persona builds card images from it; it lives
// here because go:embed reaches only below the embedding package.
//
//go:embed testdata/keys/*.pem testdata/trust testdata/photo/*.jp2
var testData embed.FS

// TestData returns the simulator's test material rooted at testdata, with
// the directories keys/, trust/ and photo/. These keys are public test keys:
// nothing they sign is genuine.
func TestData() fs.FS {
	sub, err := fs.Sub(testData, "testdata")
	if err != nil {
		panic(err) // cannot happen: the directory is embedded
	}
	return sub
}
