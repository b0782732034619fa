package mynakit_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// moduleImports maps each non-test Go file of the module (slash path from
// the module root) to the module packages it imports ("" for the root),
// and "std:os" when it imports os.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	const module = "github.com/mynakit/mynakit"
	out := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		var pkgs []string
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == module || strings.HasPrefix(p, module+"/"):
				pkgs = append(pkgs, strings.TrimPrefix(strings.TrimPrefix(p, module), "/"))
			case p == "os":
				pkgs = append(pkgs, "std:os")
			}
		}
		out[filepath.ToSlash(path)] = pkgs
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLayering keeps the import graph pointing one way: internal/ holds
// helpers that sit below the root package, except the test-only fixture
// internal/simtest, which only tests import; TLV is its own package below
// apdu, so qr needs no card protocol; cardap reads cards and does no file
// I/O (package cvcache keeps its cache in a file).
func TestLayering(t *testing.T) {
	files := moduleImports(t)
	if len(files) < 50 {
		t.Fatalf("only %d Go files found; run from the module root", len(files))
	}
	for file, pkgs := range files {
		dir := filepath.ToSlash(filepath.Dir(file))
		for _, p := range pkgs {
			switch {
			case p == "" && strings.HasPrefix(dir, "internal/") && dir != "internal/simtest":
				t.Errorf("%s imports the root package; only the test fixture internal/simtest may", file)
			case p == "internal/simtest" && dir != "internal/simtest":
				t.Errorf("%s imports the test-only internal/simtest", file)
			case p == "apdu" && dir == "qr":
				t.Errorf("%s imports apdu; qr needs only package tlv", file)
			case dir == "cardap" && (p == "std:os" || p == "internal/atomicfile"):
				t.Errorf("%s imports %s; cardap does no file I/O", file, p)
			case p == "apdu" && dir == "tlv":
				t.Errorf("%s imports apdu; tlv sits below it", file)
			}
		}
	}
}
