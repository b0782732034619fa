package oqs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// faceFixture returns a face file of today (per now) and its name.
func faceFixture(t *testing.T, now time.Time, tag string) (string, []byte) {
	t.Helper()
	b := readTestdata(t, "face-out-of-order.xml")
	b = bytes.Replace(b, []byte("Zm9vYmFyYmF6cXV4"), []byte(tag), 1)
	return PrefixFaceResult + testMIC + "0123456789abcdef" + tag[:4] + "_" + now.Format("20060102150405") + ".xml", b
}

func newTestWatcher(t *testing.T, root string, now time.Time) *Watcher {
	t.Helper()
	w, err := NewWatcher(WatchConfig{Root: root, Settle: time.Nanosecond, CopyDir: filepath.Join(t.TempDir(), "copies"), Now: func() time.Time { return now }, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var faceNow = time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC)

func TestWatcherReportsOnceAfterTwoReads(t *testing.T) {
	root := newShare(t)
	w := newTestWatcher(t, root, faceNow)
	name, data := faceFixture(t, faceNow, "AAAAbbbbCCCCdddd")
	path := filepath.Join(root, DirFace, name)
	if err := os.WriteFile(path, data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	if got := w.Poll(); len(got) != 0 {
		t.Fatalf("first read reported: %+v", got)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil { // the writer goes on
		t.Fatal(err)
	}
	if got := w.Poll(); len(got) != 0 {
		t.Fatalf("changed file reported: %+v", got)
	}
	got := w.Poll()
	if len(got) != 1 || got[0].Err != nil || got[0].Message == nil || !bytes.Equal(got[0].Raw, data) {
		t.Fatalf("got %+v", got)
	}
	if cp, err := os.ReadFile(got[0].CopyPath); err != nil || !bytes.Equal(cp, data) {
		t.Errorf("private copy: %v", err)
	}
	// The original may vanish; our copy stays.
	os.Remove(path)
	if !bytes.Equal(got[0].Raw, data) {
		t.Error("Raw is not a private copy")
	}
	for i := 0; i < 3; i++ {
		if again := w.Poll(); len(again) != 0 {
			t.Fatalf("reported again: %+v", again)
		}
	}
}

func TestWatcherFollowsFileMovedAway(t *testing.T) {
	root := newShare(t)
	w := newTestWatcher(t, root, faceNow)
	name, data := faceFixture(t, faceNow, "MOVEdbbbCCCCdddd")
	path := filepath.Join(root, DirFace, name)
	os.WriteFile(path, data, 0o644)
	if got := w.Poll(); len(got) != 0 {
		t.Fatal("reported after one read")
	}
	// Another program moves it to its trash folder between our reads.
	if err := os.Rename(path, filepath.Join(root, DirTrash, name)); err != nil {
		t.Fatal(err)
	}
	got := w.Poll()
	if len(got) != 1 || got[0].Message == nil || got[0].Path != filepath.Join(root, DirTrash, name) {
		t.Fatalf("got %+v", got)
	}
	if len(w.Poll()) != 0 {
		t.Fatal("reported twice")
	}
}

func TestWatcherTakesCompleteFileMovedOutOfSight(t *testing.T) {
	root := newShare(t)
	w := newTestWatcher(t, root, faceNow)
	name, data := faceFixture(t, faceNow, "GONEdbbbCCCCdddd")
	path := filepath.Join(root, DirFace, name)
	os.WriteFile(path, data, 0o644)
	w.Poll()
	os.Remove(path) // moved somewhere we do not look
	got := w.Poll()
	if len(got) != 1 || got[0].Message == nil || !strings.Contains(got[0].Note, "moved away") {
		t.Fatalf("got %+v", got)
	}
	// A partial file that vanishes is reported as an error, once.
	name2, data2 := faceFixture(t, faceNow, "PARTdbbbCCCCdddd")
	p2 := filepath.Join(root, DirFace, name2)
	os.WriteFile(p2, data2[:100], 0o644)
	w.Poll()
	os.Remove(p2)
	var errs []FaceResult
	for i := 0; i < 3; i++ {
		errs = append(errs, w.Poll()...)
	}
	if len(errs) != 1 || errs[0].Err == nil {
		t.Fatalf("vanished partial file: %+v", errs)
	}
}

func TestWatcherDeduplicatesByContent(t *testing.T) {
	root := newShare(t)
	w := newTestWatcher(t, root, faceNow)
	name, data := faceFixture(t, faceNow, "DUPLbbbbCCCCdddd")
	other := strings.Replace(name, "DUPL", "COPY", 1)
	os.WriteFile(filepath.Join(root, DirFace, name), data, 0o644)
	os.WriteFile(filepath.Join(root, DirFace, other), data, 0o644)
	var got []FaceResult
	for i := 0; i < 3; i++ {
		got = append(got, w.Poll()...)
	}
	if len(got) != 1 {
		t.Fatalf("same bytes under two names reported %d times", len(got))
	}
}

func TestWatcherOnlyTodayAndBadFiles(t *testing.T) {
	root := newShare(t)
	w := newTestWatcher(t, root, faceNow)
	oldName, old := faceFixture(t, faceNow.AddDate(0, 0, -1), "OLDDbbbbCCCCdddd")
	os.WriteFile(filepath.Join(root, DirFace, oldName), old, 0o644)
	badName, _ := faceFixture(t, faceNow, "BADDbbbbCCCCdddd")
	os.WriteFile(filepath.Join(root, DirFace, badName), []byte(`<!DOCTYPE x [<!ENTITY a "b">]><XmlMsg/>`), 0o644)
	os.WriteFile(filepath.Join(root, DirFace, "notes.xml"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(root, DirFace, ".partial.tmp"), []byte("x"), 0o644)
	var got []FaceResult
	for i := 0; i < 4; i++ {
		got = append(got, w.Poll()...)
	}
	if len(got) != 2 {
		t.Fatalf("got %d reports: %+v", len(got), got)
	}
	for _, r := range got {
		if r.Err == nil {
			t.Errorf("%s: no error", r.Name)
		}
		if _, err := os.Stat(r.Path); err != nil {
			t.Errorf("%s was not left in place", r.Name)
		}
	}
	if !strings.Contains(got[0].Err.Error()+got[1].Err.Error(), "DTD") {
		t.Errorf("the DTD is not named: %v / %v", got[0].Err, got[1].Err)
	}
}

func TestMatch(t *testing.T) {
	r, err := ParseConfirmResult(readTestdata(t, "face-out-of-order.xml"))
	if err != nil {
		t.Fatal(err)
	}
	face := FaceResult{Message: r}
	if d := Match(CardFacts{Name: "見本 みどり", Kana: "さんぷる　みどり", BirthDate: "1949-11-07"}, face); len(d) != 0 {
		t.Errorf("width, space and hiragana differences are not disagreements: %+v", d)
	}
	if d := Match(CardFacts{Name: "見本　みどり", Kana: "ｻﾝﾌﾟﾙﾐﾄﾞﾘ", BirthDate: "19491107"}, face); len(d) != 0 {
		t.Errorf("%+v", d)
	}
	d := Match(CardFacts{Name: "見本　みのり", BirthDate: "1949-11-08"}, face)
	if len(d) != 2 || d[0].Field != "name" || d[1].Field != "birth_date" || d[1].Result != "1949-11-07" {
		t.Errorf("each disagreement shown: %+v", d)
	}
	two := *r
	two.Body.ResultList.Results = append(append([]Qualification(nil), r.Body.ResultList.Results...), r.Body.ResultList.Results...)
	d = Match(CardFacts{Name: "見本　みどり", BirthDate: "1949-11-07"}, FaceResult{Message: &two})
	if len(d) != 1 || d[0].Field != "candidates" || d[0].Candidate != -1 {
		t.Errorf("several candidates must be flagged, never picked: %+v", d)
	}
	if d := Match(CardFacts{Name: "x"}, FaceResult{}); len(d) != 1 || d[0].Field != "result" {
		t.Errorf("unreadable: %+v", d)
	}
	if NormalizeName("ｶﾞｸ　ﾀﾛｰ") != NormalizeName("がく たろー") {
		t.Errorf("%q vs %q", NormalizeName("ｶﾞｸ　ﾀﾛｰ"), NormalizeName("がく たろー"))
	}
}
