package accesslog

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, dir string) *Log {
	t.Helper()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func appendN(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := l.Append(Entry{ID: "op", Event: Begin, Origin: "http://127.0.0.1:7457", Reader: "r", Action: "read", Data: []string{"text"}, Card: l.CardID("400000012719843")}); err != nil {
			t.Fatal(err)
		}
	}
}

func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))
}

func TestAppendIsChainedAndDurable(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir)
	e1, err := l.Append(Entry{ID: "a", Event: Begin, Origin: "https://app.example", Reader: "ACS 00", Action: "read", Data: []string{"text", "surface"}, Card: l.CardID("400000012719843")})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := l.Append(Entry{ID: "a", Event: End, Action: "read", Outcome: "genuine"})
	if err != nil {
		t.Fatal(err)
	}
	if e1.Seq != 1 || e2.Seq != 2 || e1.Prev != zeroHash || e2.Prev != e1.Hash || e1.Hash == e2.Hash {
		t.Fatalf("chain: %+v %+v", e1, e2)
	}
	rep, entries, err := Verify(l.Path())
	if err != nil || !rep.Intact() || rep.Entries != 2 || len(entries) != 2 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if entries[0].Card == "" || strings.Contains(string(lines(t, l.Path())[0]), "400000012719843") {
		t.Fatal("the card serial must appear only as its keyed hash")
	}
	for _, name := range []string{FileName, KeyFileName} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, fi.Mode(), err)
		}
	}
	ops, others := Operations(entries)
	if len(ops) != 1 || ops[0].End == nil || ops[0].End.Outcome != "genuine" || len(others) != 0 || ops[0].Card() != e1.Card {
		t.Fatalf("operations %+v others %+v", ops, others)
	}
}

func TestCardIDIsKeyed(t *testing.T) {
	a, b := open(t, t.TempDir()), open(t, t.TempDir())
	first := a.CardID("1")
	if a.CardID("1") != first || first == b.CardID("1") || a.CardID("1") == a.CardID("2") || a.CardID("") != "" {
		t.Fatal("card ids must be stable per key, differ across keys and serials")
	}
	// Reopened, the same key is used.
	dir := t.TempDir()
	w := open(t, dir)
	id := w.CardID("x")
	w.Close()
	if open(t, dir).CardID("x") != id {
		t.Fatal("the key changed on reopen")
	}
}

func TestKeyReadableByOthersIsRefused(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	if err := os.Chmod(filepath.Join(dir, KeyFileName), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("open with an exposed key: %v", err)
	}
}

func TestConcurrentAppendsKeepTheChain(t *testing.T) {
	l := open(t, t.TempDir())
	var wg sync.WaitGroup
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := l.Append(Entry{Event: Note, Action: "status"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rep, entries, err := Verify(l.Path())
	if err != nil || !rep.Intact() || rep.Entries != 500 {
		t.Fatalf("%+v %v", rep, err)
	}
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d numbered %d", i+1, e.Seq)
		}
	}
}

// A crash mid-write leaves a torn last line: it is cut and the cut noted,
// nothing before it is lost, and new entries chain on.
func TestTornLastEntryIsCutAndNoted(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir)
	appendN(t, l, 5)
	l.Close()
	path := filepath.Join(dir, FileName)
	ls := lines(t, path)
	full := int64(0)
	for _, x := range ls[:4] {
		full += int64(len(x))
	}
	cut := full + int64(len(ls[4]))/2
	if err := os.Truncate(path, cut); err != nil {
		t.Fatal(err)
	}
	// The crash came before the head moved on to entry 5.
	var e4 Entry
	json.Unmarshal(ls[3], &e4)
	hf, err := os.OpenFile(filepath.Join(dir, HeadFileName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeHead(hf, Head{Seq: 4, Hash: e4.Hash}); err != nil {
		t.Fatal(err)
	}
	hf.Close()
	rep, _, err := Verify(path)
	if err != nil || rep.Intact() || rep.Problems[0].Kind != Torn || rep.Problems[0].Entry != 5 || rep.Entries != 4 {
		t.Fatalf("verify of a torn log: %+v %v", rep, err)
	}
	l2 := open(t, dir)
	if r := l2.Recovery(); r.TornBytes != cut-full || r.Entries != 4 {
		t.Fatalf("recovery %+v", r)
	}
	appendN(t, l2, 2)
	rep, entries, err := Verify(path)
	if err != nil || !rep.Intact() || rep.Entries != 7 {
		t.Fatalf("after recovery: %+v %v", rep, err)
	}
	if entries[4].Event != Note || entries[4].Action != "log-recovered" || !strings.Contains(entries[4].Note, "incomplete entry 5") {
		t.Fatalf("the cut is not noted: %+v", entries[4])
	}
	// The four complete entries are byte for byte what they were.
	after := lines(t, path)
	for i := 0; i < 4; i++ {
		if !bytes.Equal(after[i], ls[i]) {
			t.Fatalf("entry %d changed", i+1)
		}
	}
}

// A byte flipped in an old entry is reported there; everything is kept and
// new entries still append.
func TestAlteredOldEntryIsReportedAndAppendsGoOn(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir)
	appendN(t, l, 6)
	l.Close()
	path := filepath.Join(dir, FileName)
	b, _ := os.ReadFile(path)
	ls := lines(t, path)
	off := len(ls[0]) + len(ls[1]) + bytes.Index(ls[2], []byte(`"read"`)) + 1
	b[off] ^= 0x01 // "read" -> "sead"
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, entries, err := Verify(path)
	if err != nil || len(rep.Problems) != 1 || rep.Problems[0].Entry != 3 || rep.Problems[0].Kind != Altered || len(entries) != 6 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	l2 := open(t, dir)
	if r := l2.Recovery(); len(r.Problems) != 1 || r.Problems[0].Entry != 3 {
		t.Fatalf("open did not report the damage: %+v", r)
	}
	appendN(t, l2, 1)
	rep, _, _ = Verify(path)
	if rep.Entries != 7 || len(rep.Problems) != 1 || rep.Problems[0].Entry != 3 {
		t.Fatalf("after an append: %+v", rep)
	}
}

func TestRemovedEntryBreaksTheChain(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir)
	appendN(t, l, 4)
	l.Close()
	path := filepath.Join(dir, FileName)
	ls := lines(t, path)
	if err := os.WriteFile(path, bytes.Join([][]byte{ls[0], ls[2], ls[3]}, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _, _ := Verify(path)
	kinds := map[ProblemKind]int{}
	for _, p := range rep.Problems {
		kinds[p.Kind]++
		if p.Entry != 2 && p.Entry != 3 && !(p.Entry == 4 && p.Kind == Missing) {
			t.Errorf("problem at %d: %+v", p.Entry, p)
		}
	}
	if kinds[Chain] != 1 || kinds[Sequence] != 2 || kinds[Missing] != 1 {
		t.Fatalf("problems %+v", rep.Problems)
	}
}

func TestSymlinkedLogIsRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	os.WriteFile(target, nil, 0o600)
	if err := os.Symlink(target, filepath.Join(dir, FileName)); err != nil {
		t.Skip(err)
	}
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("followed a symbolic link")
	}
}

func unixgram(t *testing.T) (string, *net.UnixConn) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { c.Close() })
	return path, c
}

func receive(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 64<<10)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestSinksMirrorEachEntry(t *testing.T) {
	jpath, jconn := unixgram(t)
	spath, sconn := unixgram(t)
	j, err := JournaldSink(jpath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := SyslogSink("unixgram", spath)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(t.TempDir(), Options{Sinks: []Sink{j, s}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e, err := l.Append(Entry{ID: "x", Event: End, Action: "status", Outcome: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	line, _ := os.ReadFile(l.Path())
	got := receive(t, jconn)
	if !strings.Contains(got, "MESSAGE="+strings.TrimSpace(string(line))+"\n") || !strings.Contains(got, "SYSLOG_IDENTIFIER=mynakit\n") {
		t.Fatalf("journald got %q", got)
	}
	got = receive(t, sconn)
	if !strings.Contains(got, "mynakit") || !strings.Contains(got, e.Hash) {
		t.Fatalf("syslog got %q", got)
	}
	var back Entry
	if err := json.Unmarshal(bytes.TrimSpace(line), &back); err != nil || back.Hash != e.Hash {
		t.Fatal(err)
	}
}

func FuzzScan(f *testing.F) {
	dir := f.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		l.Append(Entry{ID: "a", Event: Begin, Action: "read"})
	}
	l.Close()
	good, _ := os.ReadFile(filepath.Join(dir, FileName))
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add([]byte("{}\n{\"seq\":1}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, good, _, err := scan(bytes.NewReader(b), chainKey(make([]byte, 32)))
		if err != nil {
			t.Fatal(err)
		}
		if good > int64(len(b)) || rep.TornBytes+good != int64(len(b)) && rep.TornBytes != 0 {
			t.Fatalf("offsets: good %d torn %d of %d", good, rep.TornBytes, len(b))
		}
		if rep.Intact() && good != int64(len(b)) {
			t.Fatalf("intact but %d of %d bytes read", good, len(b))
		}
	})
}

func TestWriteIsDurableAfterTheNextAppendOrSync(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir)
	w, err := l.Write(Entry{ID: "a", Event: Begin, Action: "status"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := l.Append(Entry{ID: "a", Event: End, Action: "status", Outcome: "ok"})
	if err != nil || a.Prev != w.Hash || a.Seq != 2 {
		t.Fatalf("%+v %+v %v", w, a, err)
	}
	if _, err := l.Write(Entry{Event: Note, Action: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	rep, _, err := Verify(l.Path())
	if err != nil || !rep.Intact() || rep.Entries != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
}
