package accesslog

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// closedLog writes n entries to a new log and closes it.
func closedLog(t *testing.T, n int) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, n)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, FileName)
}

func kinds(rep Report) map[ProblemKind]int {
	k := map[ProblemKind]int{}
	for _, p := range rep.Problems {
		k[p.Kind]++
	}
	return k
}

func TestEmptiedLogFailsVerify(t *testing.T) {
	_, path := closedLog(t, 5)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	rep, _, err := Verify(path)
	if err != nil || rep.Intact() || len(rep.Problems) != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if p := rep.Problems[0]; p.Kind != Missing || p.Entry != 1 || !strings.Contains(p.Detail, "emptied") || !strings.Contains(p.Detail, "5 entries") {
		t.Fatalf("problem %+v", p)
	}
}

func TestLogCutByThreeFailsVerify(t *testing.T) {
	_, path := closedLog(t, 8)
	ls := lines(t, path)
	if err := os.WriteFile(path, bytes.Join(ls[:5], nil), 0o600); err != nil { // head -n -3
		t.Fatal(err)
	}
	rep, entries, err := Verify(path)
	if err != nil || rep.Intact() || len(rep.Problems) != 1 || len(entries) != 5 {
		t.Fatalf("%+v %v", rep, err)
	}
	if p := rep.Problems[0]; p.Kind != Missing || p.Entry != 6 || !strings.Contains(p.Detail, "3 entries are missing at the end (entries 6 to 8)") {
		t.Fatalf("problem %+v", p)
	}
}

// Rewritten by someone without the key — every entry re-hashed and the
// chain rebuilt with plain SHA-256, the head rewritten to match — the log
// fails: each entry is named as forged.
func TestLogRewrittenWithoutTheKeyFailsVerify(t *testing.T) {
	dir, path := closedLog(t, 4)
	var out bytes.Buffer
	prev := zeroHash
	var last Entry
	for i, line := range lines(t, path) {
		if len(line) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		e.Origin = "https://innocent.example" // the forger's change
		e.Seq, e.Prev, e.Hash = int64(i+1), prev, ""
		b, _ := json.Marshal(e)
		sum := sha256.Sum256(b)
		e.Hash = hex.EncodeToString(sum[:])
		b = append(b[:len(b)-1], `,"hash":"`+e.Hash+`"}`...)
		out.Write(append(b, '\n'))
		prev, last = e.Hash, e
	}
	os.WriteFile(path, out.Bytes(), 0o600)
	hf, _ := os.OpenFile(filepath.Join(dir, HeadFileName), os.O_RDWR, 0)
	writeHead(hf, Head{Seq: last.Seq, Hash: last.Hash})
	hf.Close()
	rep, _, err := Verify(path)
	if err != nil || rep.Intact() {
		t.Fatalf("%+v %v", rep, err)
	}
	if k := kinds(rep); k[Forged] != 4 || len(rep.Problems) != 4 {
		t.Fatalf("problems %+v", rep.Problems)
	}
	if !strings.Contains(rep.Problems[0].Detail, "without the key") {
		t.Fatalf("detail %q", rep.Problems[0].Detail)
	}
	// Bytes changed at random are still called altered.
	b, _ := os.ReadFile(path)
	b[bytes.Index(b, []byte(`"hash":"`))+9] ^= 1
	os.WriteFile(path, b, 0o600)
	if rep, _, _ := Verify(path); kinds(rep)[Altered] != 1 {
		t.Fatalf("%+v", rep.Problems)
	}
}

// The entry the head names was replaced (the log rewritten from there with
// the key, say by a copy of an older log): Verify says so.
func TestOlderCopyOfTheLogFailsVerify(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir)
	appendN(t, l, 3)
	old, _ := os.ReadFile(l.Path())
	appendN(t, l, 2)
	l.Close()
	// Restore the older copy, then add two other entries with the key.
	os.WriteFile(l.Path(), old, 0o600)
	hf, _ := os.OpenFile(filepath.Join(dir, HeadFileName), os.O_RDWR, 0)
	h, _ := readHead(dir)
	var e3 Entry
	json.Unmarshal(bytes.Split(old, []byte("\n"))[2], &e3)
	writeHead(hf, Head{Seq: 3, Hash: e3.Hash})
	l2 := open(t, dir)
	appendN(t, l2, 2)
	l2.Close()
	writeHead(hf, h) // the head as the bridge left it
	hf.Close()
	rep, _, err := Verify(l.Path())
	if err != nil || kinds(rep)[Replaced] != 1 || rep.Problems[0].Entry != 5 {
		t.Fatalf("%+v %v", rep, err)
	}
}

// A writer that finds its log shorter than its head records the gap as its
// first entry, and Verify keeps reporting the recorded gap.
func TestWriterRecordsTheGapFirst(t *testing.T) {
	dir, path := closedLog(t, 6)
	ls := lines(t, path)
	os.WriteFile(path, bytes.Join(ls[:3], nil), 0o600)
	l := open(t, dir)
	if _, err := l.Append(Entry{ID: "x", Event: Begin, Action: "read"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	rep, entries, err := Verify(path)
	if err != nil || len(entries) != 5 {
		t.Fatalf("%+v %v", rep, err)
	}
	gap := entries[3]
	if gap.Event != Note || gap.Action != ActionGap || !strings.Contains(gap.Note, "entries 4 to 6 are missing") {
		t.Fatalf("entry 4 is %+v", gap)
	}
	if entries[4].Action != "read" {
		t.Fatalf("entry 5 is %+v", entries[4])
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != Missing || rep.Problems[0].Entry != 4 {
		t.Fatalf("problems %+v", rep.Problems)
	}
	// Emptied, the same: the gap is the new entry 1.
	os.Truncate(path, 0)
	l = open(t, dir)
	l.Close()
	_, entries, _ = Verify(path)
	if len(entries) != 1 || entries[0].Action != ActionGap || !strings.Contains(entries[0].Note, "entries 1 to 5") {
		t.Fatalf("after emptying: %+v", entries)
	}
}

func TestHeadRemovedFailsVerify(t *testing.T) {
	dir, path := closedLog(t, 2)
	os.Remove(filepath.Join(dir, HeadFileName))
	rep, _, err := Verify(path)
	if err != nil || len(rep.Problems) != 1 || rep.Problems[0].Kind != NoHead {
		t.Fatalf("%+v %v", rep, err)
	}
	os.WriteFile(filepath.Join(dir, HeadFileName), []byte("junk"), 0o600)
	if rep, _, _ := Verify(path); len(rep.Problems) != 1 || rep.Problems[0].Kind != NoHead {
		t.Fatalf("%+v", rep)
	}
}

func TestKeyRemovedFailsVerify(t *testing.T) {
	dir, path := closedLog(t, 2)
	os.Remove(filepath.Join(dir, KeyFileName))
	rep, entries, err := Verify(path)
	if err != nil || len(entries) != 2 || len(rep.Problems) != 1 || rep.Problems[0].Kind != NoKey {
		t.Fatalf("%+v %v", rep, err)
	}
}

// One writer per log: a second Open of the same log, as a second bridge
// would, is refused while the first is open, and allowed once it closed.
func TestSecondWriterIsRefused(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir)
	appendN(t, l, 1)
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second writer: %v", err)
	}
	// The refused writer wrote nothing and the log verifies.
	if rep, _, err := Verify(l.Path()); err != nil || !rep.Intact() || rep.Entries != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	l.Close()
	l2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	l2.Close()
}

// The head goes to the sinks after the entries it covers.
func TestSinkGetsTheHead(t *testing.T) {
	jpath, jconn := unixgram(t)
	j, err := JournaldSink(jpath)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(t.TempDir(), Options{Sinks: []Sink{j}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e, err := l.Append(Entry{Event: Note, Action: "status"})
	if err != nil {
		t.Fatal(err)
	}
	if got := receive(t, jconn); !strings.Contains(got, e.Hash) || strings.Contains(got, `"head"`) {
		t.Fatalf("first datagram %q", got)
	}
	want := `MESSAGE={"head":{"seq":1,"hash":"` + e.Hash + `"}}`
	if got := receive(t, jconn); !strings.Contains(got, want) {
		t.Fatalf("head datagram %q", got)
	}
}

// The lock holds across processes: a helper process (this test binary)
// holds the log open, and this one is refused.
func TestSecondProcessIsRefused(t *testing.T) {
	if dir := os.Getenv("MYNAKIT_ACCESSLOG_HOLD"); dir != "" {
		l, err := Open(dir, Options{})
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("holding\n")
		var b [1]byte
		os.Stdin.Read(b[:]) // until the parent closes stdin
		l.Close()
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondProcessIsRefused$")
	cmd.Env = append(os.Environ(), "MYNAKIT_ACCESSLOG_HOLD="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "holding\n" {
		t.Fatalf("helper: %q %v", line, err)
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second process's writer: %v", err)
	}
}

// A damaged head does not stop the writer: it notes it and writes a new
// head.
func TestDamagedHeadIsNotedAndReplaced(t *testing.T) {
	dir, path := closedLog(t, 2)
	os.WriteFile(filepath.Join(dir, HeadFileName), []byte("junk"), 0o600)
	l := open(t, dir)
	l.Close()
	rep, entries, err := Verify(path)
	if err != nil || len(entries) != 3 || entries[2].Action != ActionHeadMissing || !strings.Contains(entries[2].Note, "damaged head") {
		t.Fatalf("%+v %+v %v", rep, entries, err)
	}
	if rep.Head == nil || rep.Head.Seq != 3 || len(rep.Problems) != 1 || rep.Problems[0].Kind != NoHead || rep.Problems[0].Entry != 3 {
		t.Fatalf("%+v", rep)
	}
}

func FuzzReadHead(f *testing.F) {
	f.Add([]byte(`{"seq":3,"hash":"` + strings.Repeat("ab", 32) + `"}` + strings.Repeat(" ", 50) + "\n"))
	f.Add([]byte(`{"seq":-1}`))
	f.Add([]byte(`{"seq":1,"hash":"x","extra":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, HeadFileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := readHead(dir)
		if err != nil {
			if !errors.Is(err, errBadHead) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if h.Seq < 0 || (h.Seq > 0 && !validHash(h.Hash)) || len(b) > headSize {
			t.Fatalf("accepted %+v from %q", h, b)
		}
	})
}
