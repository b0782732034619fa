package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestNewFileIsPrivate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dump.json")
	if err := WriteFile(p, []byte("secret"), Private); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
}

// An existing world-readable file is replaced by a new private one: its
// mode is not kept.
func TestReplacedFileDoesNotKeepItsMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dump.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), Private); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	b, _ := os.ReadFile(p)
	if fi.Mode().Perm() != 0o600 || string(b) != "new" {
		t.Fatalf("mode %v, content %q", fi.Mode(), b)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "out")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(link, []byte("evil"), Private); !errors.Is(err, ErrSymlink) {
		t.Fatalf("got %v, want ErrSymlink", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("the link's target was written: %q", b)
	}
}

func TestDirectoryRefused(t *testing.T) {
	if err := WriteFile(t.TempDir(), []byte("x"), Private); err == nil {
		t.Fatal("wrote over a directory")
	}
}

// WriteNew creates a file once: a second writer of the name gets
// fs.ErrExist and the first content stays, and no temporary file is left.
func TestWriteNew(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "job.json")
	if err := WriteNew(p, []byte("first"), Private); err != nil {
		t.Fatal(err)
	}
	if err := WriteNew(p, []byte("second"), Private); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second WriteNew: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Fatalf("content %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != Private {
		t.Fatalf("mode %v", fi.Mode())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

// Temporary names come from crypto/rand: many of them never repeat, and
// each has the fixed prefix other programs skip.
func TestCreateTempNamesAreUnpredictable(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	for range 64 {
		f, err := CreateTemp(dir, Private)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f.Name())
		f.Close()
		if seen[name] || len(name) != len(TempPrefix)+32+len(".tmp") || name[:len(TempPrefix)] != TempPrefix {
			t.Fatalf("name %q (seen before: %v)", name, seen[name])
		}
		seen[name] = true
		if fi, err := os.Lstat(f.Name()); err != nil || fi.Mode().Perm() != Private || !fi.Mode().IsRegular() {
			t.Fatalf("%s: %v %v", name, fi.Mode(), err)
		}
	}
}

// Whatever is planted at a temporary name — a link to a victim, even a
// dangling one — is never opened: creation fails and the victim keeps its
// bytes.
func TestOpenExclusiveNeverFollowsALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	link := filepath.Join(dir, TempPrefix+"planted.tmp")
	dangling := filepath.Join(dir, TempPrefix+"dangling.tmp")
	if err := os.Symlink(victim, link); err != nil {
		t.Skip(err)
	}
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	for _, p := range []string{link, dangling} {
		if f, err := openExclusive(p, Private); err == nil {
			f.Close()
			t.Fatalf("%s: opened a planted link", p)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("victim written: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Fatal("a dangling link's target was created")
	}
}

// Publish replaces a link planted at the published name instead of writing
// through it, and leaves no temporary file.
func TestPublishReplacesAPlantedLink(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	victim := filepath.Join(elsewhere, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	if err := os.Symlink(victim, filepath.Join(dir, "req.xml")); err != nil {
		t.Skip(err)
	}
	if err := Publish(dir, "req.xml", []byte("request"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("written through the link: %q", b)
	}
	fi, err := os.Lstat(filepath.Join(dir, "req.xml"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("published file: %v %v", fi, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}
