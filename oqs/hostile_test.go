//go:build unix

package oqs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A clinic's shared folder is writable by other programs. These tests put
// there what a hostile one would: links, FIFOs, junk, and a share that
// hangs.

var hostileNow = time.Date(2025, 3, 1, 10, 15, 0, 0, time.Local)

func fixedClient(t *testing.T, root string, timeout time.Duration) *Client {
	t.Helper()
	c, err := NewClient(Config{Root: root, StateDir: t.TempDir(), MedicalInstitutionCode: testMIC, PollInterval: 5 * time.Millisecond,
		Timeout: timeout, Now: func() time.Time { return hostileNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// confirmGuarded runs Confirm, failing the test if it has not returned
// after guard (the bug this guards against is a hang for ever).
func confirmGuarded(t *testing.T, c *Client, guard time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := c.Confirm(context.Background(), testReq)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(guard):
		t.Fatalf("Confirm still blocked after %s", guard)
		return nil
	}
}

// Links planted at every temporary name the request could once have been
// written through (the old, guessable .mynakit-<request>.tmp) point at a
// file elsewhere: it keeps its bytes, and the request is a regular file.
func TestRequestIsNeverWrittenThroughAPlantedLink(t *testing.T) {
	root := newShare(t)
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	for n := 1; n <= 3; n++ {
		name := RequestName(PrefixConfirmRequest, hostileNow, n)
		tmp := filepath.Join(root, DirRequests, ".mynakit-"+strings.TrimSuffix(name, ".xml")+".tmp")
		if err := os.Symlink(victim, tmp); err != nil {
			t.Skip(err)
		}
	}
	c := fixedClient(t, root, 20*time.Millisecond)
	if err := confirmGuarded(t, c, 10*time.Second); !errors.Is(err, ErrTimeout) {
		t.Fatalf("confirm: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Fatalf("a patient's request was written through a planted link: %q", b)
	}
	req := filepath.Join(root, DirRequests, RequestName(PrefixConfirmRequest, hostileNow, 1))
	fi, err := os.Lstat(req)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("request %s: %v %v", req, fi, err)
	}
	ents, _ := os.ReadDir(filepath.Join(root, DirRequests))
	if len(ents) != 4 { // the three planted links and the request
		t.Fatalf("req holds %v", ents)
	}
}

// A FIFO at the result's name used to hold open(2) for ever: now it is
// refused as not a regular file, and the wait ends in the timeout, the
// FIFO named as the last problem.
func TestFIFOAtResultNameEndsInTimeout(t *testing.T) {
	root := newShare(t)
	res, _ := ResultName(RequestName(PrefixConfirmRequest, hostileNow, 1))
	if err := syscall.Mkfifo(filepath.Join(root, DirResults, res), 0o644); err != nil {
		t.Skip(err)
	}
	// The name is taken now, so the request gets number 2: put a FIFO
	// there too, in trash, where results are also looked for.
	res2, _ := ResultName(RequestName(PrefixConfirmRequest, hostileNow, 2))
	if err := syscall.Mkfifo(filepath.Join(root, DirTrash, res2), 0o644); err != nil {
		t.Fatal(err)
	}
	c := fixedClient(t, root, 300*time.Millisecond)
	// The names with FIFOs are taken; publish the next one and then put a
	// FIFO at its result name, as a hostile program watching req would.
	go func() {
		for i := 0; i < 1000; i++ {
			name := RequestName(PrefixConfirmRequest, hostileNow, 3)
			if _, err := os.Lstat(filepath.Join(root, DirRequests, name)); err == nil {
				r, _ := ResultName(name)
				syscall.Mkfifo(filepath.Join(root, DirResults, r), 0o644)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	err := confirmGuarded(t, c, 10*time.Second)
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("confirm: %v", err)
	}
	if !errors.Is(te.Last, ErrNotRegular) || !strings.Contains(te.Last.Error(), "FIFO") {
		t.Fatalf("the FIFO is not named: %v", te.Last)
	}
}

// A result reached through a link is not taken, even a valid one.
func TestResultThroughALinkIsNotTaken(t *testing.T) {
	root := newShare(t)
	c := fixedClient(t, root, 200*time.Millisecond)
	name := RequestName(PrefixConfirmRequest, hostileNow, 1)
	r, _ := ResultName(name)
	elsewhere := filepath.Join(t.TempDir(), "answer.xml")
	go func() {
		for i := 0; i < 1000; i++ {
			if b, err := os.ReadFile(filepath.Join(root, DirRequests, name)); err == nil {
				req, err := ParseConfirmRequest(b)
				if err != nil {
					return
				}
				doc := Group("XmlMsg",
					Group("MessageHeader", Leaf("MedicalInstitutionCode", testMIC), Leaf("ArbitraryFileIdentifier", req.Header.ArbitraryFileIdentifier),
						Leaf("SegmentOfResult", "1"), Leaf("CharacterCodeIdentifier", "0")),
					Group("MessageBody", Leaf("ProcessingResultStatus", "1"), Leaf("QualificationValidity", "1")))
				out, _ := EncodeDocument(doc, UTF8)
				os.WriteFile(elsewhere, out, 0o644)
				os.Symlink(elsewhere, filepath.Join(root, DirResults, r))
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	err := confirmGuarded(t, c, 10*time.Second)
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(te.Last, ErrNotRegular) {
		t.Fatalf("confirm through a link: %v", err)
	}
}

// A file operation that hangs (a hung share) is abandoned at its
// deadline, or when ctx ends; the goroutine left behind is counted until
// it returns, and past the limit further operations fail at once.
func TestHungFileOperationIsAbandoned(t *testing.T) {
	release := make(chan struct{})
	hang := func() (int, error) { <-release; return 1, nil }
	_, err := fileOp(context.Background(), 20*time.Millisecond, "read", "/share/x", hang)
	var fe *FileTimeoutError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFileTimeout) || fe.Saturated {
		t.Fatalf("deadline: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fileOp(ctx, time.Hour, "read", "/share/x", hang); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	for abandoned.Load() < maxAbandoned {
		fileOp(context.Background(), time.Millisecond, "read", "/share/x", hang)
	}
	if _, err := fileOp(context.Background(), time.Hour, "read", "/share/x", hang); !errors.As(err, &fe) || !fe.Saturated {
		t.Fatalf("saturated: %v", err)
	}
	close(release)
	for abandoned.Load() != 0 {
		time.Sleep(time.Millisecond)
	}
	if v, err := fileOp(context.Background(), time.Hour, "read", "/share/x", hang); v != 1 || err != nil {
		t.Fatalf("after the share answers again: %v %v", v, err)
	}
}

// readRegular takes regular files only.
func TestReadRegularRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "a.xml")
	os.WriteFile(reg, []byte("<x/>"), 0o644)
	fifo := filepath.Join(dir, "fifo.xml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	link := filepath.Join(dir, "link.xml")
	os.Symlink(reg, link)
	if b, err := readRegular(reg, 100); err != nil || string(b) != "<x/>" {
		t.Fatalf("regular: %q %v", b, err)
	}
	for _, p := range []string{fifo, link, dir} {
		if _, err := readRegular(p, 100); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := readRegular(reg, 3); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size cap: %v", err)
	}
}

// A FIFO in face does not stop the face events: the good file beside it
// is reported, the FIFO once as an error. A link to access.key in face is
// never read, so --copy-dir gets a copy of regular files only.
func TestWatcherSurvivesFIFOAndLinks(t *testing.T) {
	root := newShare(t)
	w := newTestWatcher(t, root, faceNow)
	name, data := faceFixture(t, faceNow, "GOODbbbbCCCCdddd")
	os.WriteFile(filepath.Join(root, DirFace, name), data, 0o644)
	fifoName, _ := faceFixture(t, faceNow, "FIFObbbbCCCCdddd")
	if err := syscall.Mkfifo(filepath.Join(root, DirFace, fifoName), 0o644); err != nil {
		t.Skip(err)
	}
	secret := filepath.Join(t.TempDir(), "access.key")
	os.WriteFile(secret, data, 0o600) // bytes that would parse, so only the link check stops them
	linkName, _ := faceFixture(t, faceNow, "LINKbbbbCCCCdddd")
	os.Symlink(secret, filepath.Join(root, DirFace, linkName))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := w.Events(ctx)
	got := map[string]FaceResult{}
	for len(got) < 3 {
		select {
		case r := <-ch:
			got[r.Name] = r
		case <-time.After(20 * time.Second):
			t.Fatalf("events stopped; got %v", got)
		}
	}
	if r := got[name]; r.Err != nil || r.Message == nil || r.CopyPath == "" {
		t.Fatalf("good file: %+v", r)
	}
	for _, n := range []string{fifoName, linkName} {
		if r := got[n]; !errors.Is(r.Err, ErrNotRegular) || r.CopyPath != "" || r.Raw != nil {
			t.Errorf("%s: %+v", n, r)
		}
	}
	copies, _ := os.ReadDir(w.cfg.CopyDir)
	if len(copies) != 1 || copies[0].Name() != name {
		t.Fatalf("copy-dir holds %v", copies)
	}
}

// A face folder that disappears is reported once, as an event, and looked
// at again at every scan: files are taken again once it is back.
func TestWatcherReportsMissingFaceFolder(t *testing.T) {
	root := newShare(t)
	w := newTestWatcher(t, root, faceNow)
	face := filepath.Join(root, DirFace)
	if err := os.Rename(face, face+".away"); err != nil {
		t.Fatal(err)
	}
	got := w.Poll()
	if len(got) != 1 || !errors.Is(got[0].Err, ErrFaceFolder) || got[0].Name != "" || got[0].Path != face {
		t.Fatalf("missing folder: %+v", got)
	}
	if e := got[0].Eligibility(); e.Outcome != OutcomeError {
		t.Fatalf("eligibility of a folder event: %+v", e)
	}
	if again := w.Poll(); len(again) != 0 {
		t.Fatalf("reported twice: %+v", again)
	}
	os.Rename(face+".away", face)
	name, data := faceFixture(t, faceNow, "BACKbbbbCCCCdddd")
	os.WriteFile(filepath.Join(face, name), data, 0o644)
	var back []FaceResult
	for i := 0; i < 3; i++ {
		back = append(back, w.Poll()...)
	}
	if len(back) != 1 || back[0].Message == nil {
		t.Fatalf("after the folder came back: %+v", back)
	}
	// Gone again: reported again.
	os.Rename(face, face+".away")
	if got := w.Poll(); len(got) != 1 || !errors.Is(got[0].Err, ErrFaceFolder) {
		t.Fatalf("second outage: %+v", got)
	}
}

// An unparseable file is remembered by its hash while it settles, not by
// its bytes; a complete result keeps its bytes (it may be moved away).
func TestWatcherHoldsNoJunkWhileItSettles(t *testing.T) {
	root := newShare(t)
	w, err := NewWatcher(WatchConfig{Root: root, Settle: time.Hour, Now: func() time.Time { return faceNow }, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte("<"), DefaultMaxFileSize)
	var names []string
	for _, tag := range []string{"JNKAbbbbCCCCdddd", "JNKBbbbbCCCCdddd", "JNKCbbbbCCCCdddd"} {
		n, _ := faceFixture(t, faceNow, tag)
		os.WriteFile(filepath.Join(root, DirFace, n), junk, 0o644)
		names = append(names, n)
	}
	good, data := faceFixture(t, faceNow, "GOODbbbbCCCCdddd")
	os.WriteFile(filepath.Join(root, DirFace, good), data[:len(data)/2], 0o644) // not yet complete
	for i := 0; i < 3; i++ {
		if got := w.Poll(); len(got) != 0 {
			t.Fatalf("reported before settling: %+v", got)
		}
	}
	for _, n := range names {
		p := w.pending[n]
		if p == nil || p.data != nil || p.perr == nil {
			t.Fatalf("%s pending as %+v", n, p)
		}
	}
	os.WriteFile(filepath.Join(root, DirFace, good), data, 0o644)
	w.Poll()
	if p := w.pending[good]; p == nil || !bytes.Equal(p.data, data) {
		t.Fatalf("complete result not kept: %+v", p)
	}
}

// A read that hangs is abandoned at its deadline, reported once as the
// share hanging, and the file is read again (and taken) once the share
// answers: a hang loses no face result.
func TestWatcherRetriesAHungRead(t *testing.T) {
	root := newShare(t)
	w, err := NewWatcher(WatchConfig{Root: root, Settle: time.Nanosecond, FileTimeout: 20 * time.Millisecond,
		Now: func() time.Time { return faceNow }, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	name, data := faceFixture(t, faceNow, "HUNGbbbbCCCCdddd")
	os.WriteFile(filepath.Join(root, DirFace, name), data, 0o644)
	release := make(chan struct{})
	hang := func(string) { <-release }
	testHang.Store(&hang)
	defer testHang.Store(nil)
	got := w.Poll()
	if len(got) != 1 || !errors.Is(got[0].Err, ErrFaceFolder) || !errors.Is(got[0].Err, ErrFileTimeout) {
		t.Fatalf("first hung scan: %+v", got)
	}
	if again := w.Poll(); len(again) != 0 {
		t.Fatalf("hang reported twice: %+v", again)
	}
	testHang.Store(nil)
	close(release)
	var later []FaceResult
	for i := 0; i < 3; i++ {
		later = append(later, w.Poll()...)
	}
	if len(later) != 1 || later[0].Name != name || later[0].Message == nil {
		t.Fatalf("after the share answered: %+v", later)
	}
	for abandoned.Load() != 0 {
		time.Sleep(time.Millisecond)
	}
}
