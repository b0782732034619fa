package oqs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testMIC = "1398765432"

func newShare(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{DirRequests, DirResults, DirFace, DirTrash} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func newTestClient(t *testing.T, root, state string, timeout time.Duration) *Client {
	t.Helper()
	c, err := NewClient(Config{Root: root, StateDir: state, MedicalInstitutionCode: testMIC, PollInterval: 5 * time.Millisecond, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var testReq = Request{InsurerNumber: "138024", InsuredCardSymbol: "ﾐﾎﾝ", InsuredIdentificationNumber: "17", InsuredBranchNumber: "00", Birthdate: "19491107"}

// answerFor builds a valid result for the request file in req.
func answerFor(t *testing.T, root, name, mic string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, DirRequests, name))
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseConfirmRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if mic == "" {
		mic = req.Header.MedicalInstitutionCode
	}
	doc := Group("XmlMsg",
		Group("MessageHeader", Leaf("MedicalInstitutionCode", mic), Leaf("ArbitraryFileIdentifier", req.Header.ArbitraryFileIdentifier),
			Leaf("SegmentOfResult", "1"), Leaf("CharacterCodeIdentifier", "0")),
		Group("MessageBody", Leaf("ProcessingResultStatus", "1"), Leaf("QualificationValidity", "1"),
			Group("ResultList", Group("ResultOfQualificationConfirmation", Leaf("Name", "見本　みどり"), Leaf("InsurerNumber", "  138024")))))
	out, err := EncodeDocument(doc, UTF8)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func onlyRequest(t *testing.T, root string) string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, DirRequests))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 1 {
		t.Fatalf("req holds %v, want one request", names)
	}
	return names[0]
}

// TestTimeoutThenResumeSendsNothingNew: a confirm that times out leaves
// one request in req and a pending job; the same confirm run again (a new
// Client, as after a restart) sends nothing and reads the late answer.
func TestTimeoutThenResumeSendsNothingNew(t *testing.T) {
	root, state := newShare(t), t.TempDir()
	c := newTestClient(t, root, state, 50*time.Millisecond)
	_, err := c.Confirm(context.Background(), testReq)
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("want a timeout, got %v", err)
	}
	name := onlyRequest(t, root)
	if te.Job.ID != name || te.Job.State != JobPublished || !strings.Contains(err.Error(), "not sent again") {
		t.Fatalf("job %+v, error %v", te.Job, err)
	}
	if !strings.HasPrefix(name, PrefixConfirmRequest) || len(name) != len(PrefixConfirmRequest)+len("202503010001.xml") {
		t.Errorf("request name %s", name)
	}
	// Second run: still no answer, still nothing new.
	c2 := newTestClient(t, root, state, 30*time.Millisecond)
	if _, err := c2.Confirm(context.Background(), testReq); !errors.Is(err, ErrTimeout) {
		t.Fatalf("second run: %v", err)
	}
	if got := onlyRequest(t, root); got != name {
		t.Fatalf("second run published %s", got)
	}
	// The terminal answers late.
	res, _ := ResultName(name)
	if err := os.WriteFile(filepath.Join(root, DirResults, res), answerFor(t, root, name, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(root, DirRequests, name))
	c3 := newTestClient(t, root, state, 10*time.Second)
	r, err := c3.Confirm(context.Background(), testReq)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Resumed || r.Job.ID != name || !r.Interpretation.Success() || r.Job.State != JobAnswered {
		t.Errorf("resumed result %+v", r.Job)
	}
	// Answered: the next confirm is a new question with the next number.
	c4 := newTestClient(t, root, state, 20*time.Millisecond)
	_, err = c4.Confirm(context.Background(), testReq)
	if !errors.As(err, &te) || te.Job.ID == name {
		t.Errorf("after an answer a new request is made: %v", err)
	}
	// Resume by ID returns the saved answer.
	if r, err := c4.Resume(context.Background(), name); err != nil || !r.Interpretation.Success() {
		t.Errorf("resume answered job: %v", err)
	}
}

// TestPreparedJobIsPublishedOnResume: a job saved but never published
// (the process died before the rename) is published on resume, once.
func TestPreparedJobIsPublishedOnResume(t *testing.T) {
	root, state := newShare(t), t.TempDir()
	c := newTestClient(t, root, state, time.Second)
	now := time.Now()
	nr, err := testReq.normalized(now)
	if err != nil {
		t.Fatal(err)
	}
	j, resumed, err := c.confirmJob(nr, now)
	if err != nil || resumed || j.State != JobPrepared {
		t.Fatalf("%+v %v %v", j, resumed, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, DirRequests)); len(ents) != 0 {
		t.Fatal("published before being asked to")
	}
	c2 := newTestClient(t, root, state, 20*time.Millisecond)
	_, err = c2.Confirm(context.Background(), testReq)
	if !errors.Is(err, ErrTimeout) {
		t.Fatal(err)
	}
	if got := onlyRequest(t, root); got != j.ID {
		t.Errorf("published %s, want %s", got, j.ID)
	}
}

// TestPublishingJobIsNeverResent: after a crash during the rename the
// outcome is uncertain, so the request is not written again.
func TestPublishingJobIsNeverResent(t *testing.T) {
	root, state := newShare(t), t.TempDir()
	c := newTestClient(t, root, state, 20*time.Millisecond)
	now := time.Now()
	nr, _ := testReq.normalized(now)
	j, _, err := c.confirmJob(nr, now)
	if err != nil {
		t.Fatal(err)
	}
	j.State = JobPublishing
	if err := c.store.save(j); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Confirm(context.Background(), testReq); !errors.Is(err, ErrTimeout) {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, DirRequests)); len(ents) != 0 {
		t.Errorf("an uncertain request was sent again: %v", ents)
	}
}

func TestNameWithExistingResultIsSkipped(t *testing.T) {
	root, state := newShare(t), t.TempDir()
	today := time.Now().Format("20060102")
	// A stale result from another program occupies the first number.
	if err := os.WriteFile(filepath.Join(root, DirResults, PrefixConfirmResult+today+"0001.xml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, root, state, 10*time.Millisecond)
	_, err := c.Confirm(context.Background(), testReq)
	var te *TimeoutError
	if !errors.As(err, &te) || te.Job.ID != PrefixConfirmRequest+today+"0002.xml" {
		t.Fatalf("got %v", err)
	}
	// Publishing a reserved name whose result appeared meanwhile is refused.
	j := &Job{ID: PrefixConfirmRequest + today + "0001.xml", State: JobPrepared, RequestFile: []byte("<XmlMsg/>")}
	if err := c.publish(context.Background(), j); !errors.Is(err, ErrNameTaken) || j.State != JobAbandoned {
		t.Errorf("publish over an existing result: %v %s", err, j.State)
	}
}

func TestMismatchedResultIsRefused(t *testing.T) {
	root, state := newShare(t), t.TempDir()
	c := newTestClient(t, root, state, 20*time.Millisecond)
	_, _ = c.Confirm(context.Background(), testReq)
	name := onlyRequest(t, root)
	res, _ := ResultName(name)
	if err := os.WriteFile(filepath.Join(root, DirResults, res), answerFor(t, root, name, "1311111111"), 0o644); err != nil {
		t.Fatal(err)
	}
	c2 := newTestClient(t, root, state, 5*time.Second)
	_, err := c2.Confirm(context.Background(), testReq)
	var me *MismatchError
	if !errors.As(err, &me) || me.Field != "MedicalInstitutionCode" {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, DirResults, res)); err != nil {
		t.Error("the foreign file was not left in place")
	}
}

// TestSlowResultIsReadWhole writes the result in place byte by byte while
// the client polls: it must only parse the complete file.
func TestSlowResultIsReadWhole(t *testing.T) {
	root, state := newShare(t), t.TempDir()
	c := newTestClient(t, root, state, 20*time.Millisecond)
	_, _ = c.Confirm(context.Background(), testReq)
	name := onlyRequest(t, root)
	res, _ := ResultName(name)
	data := answerFor(t, root, name, "")
	done := make(chan error, 1)
	go func() {
		f, err := os.Create(filepath.Join(root, DirResults, res))
		if err != nil {
			done <- err
			return
		}
		for i := 0; i < len(data); i += 40 {
			f.Write(data[i:min(i+40, len(data))])
			time.Sleep(2 * time.Millisecond)
		}
		done <- f.Close()
	}()
	c2 := newTestClient(t, root, state, 20*time.Second)
	r, err := c2.Confirm(context.Background(), testReq)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if string(r.Raw) != string(data) || !r.Interpretation.Success() {
		t.Errorf("read %d of %d bytes", len(r.Raw), len(data))
	}
}

// TestResultMovedToTrash: a result moved away by another program between
// two reads is found in trash.
func TestResultMovedToTrash(t *testing.T) {
	root, state := newShare(t), t.TempDir()
	c := newTestClient(t, root, state, 20*time.Millisecond)
	_, _ = c.Confirm(context.Background(), testReq)
	name := onlyRequest(t, root)
	res, _ := ResultName(name)
	if err := os.WriteFile(filepath.Join(root, DirTrash, res), answerFor(t, root, name, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := newTestClient(t, root, state, 10*time.Second).Confirm(context.Background(), testReq)
	if err != nil || r.Path != filepath.Join(root, DirTrash, res) {
		t.Fatalf("%v %+v", err, r)
	}
}

func TestAbandonAllowsANewRequest(t *testing.T) {
	root, state := newShare(t), t.TempDir()
	c := newTestClient(t, root, state, 10*time.Millisecond)
	_, err := c.Confirm(context.Background(), testReq)
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatal(err)
	}
	if err := c.Abandon(te.Job.ID, "test"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Confirm(context.Background(), testReq)
	var te2 *TimeoutError
	if !errors.As(err, &te2) || te2.Job.ID == te.Job.ID {
		t.Fatalf("after abandoning: %v", err)
	}
	if _, err := c.Resume(context.Background(), te.Job.ID); !errors.Is(err, ErrJobAbandoned) {
		t.Errorf("resume abandoned: %v", err)
	}
	jobs, _ := c.Jobs()
	if len(jobs) != 2 || jobs[0].State != JobAbandoned || jobs[1].State != JobPublished {
		t.Errorf("jobs %+v", jobs)
	}
}

func TestUnencodableRequestLeavesNoJob(t *testing.T) {
	root, state := newShare(t), t.TempDir()
	c := newTestClient(t, root, state, 10*time.Millisecond)
	r := testReq
	r.InsuredCardSymbol = "𠮷"
	var ue *UnencodableError
	if _, err := c.Confirm(context.Background(), r); !errors.As(err, &ue) {
		t.Fatal(err)
	}
	if jobs, _ := c.Jobs(); len(jobs) != 0 {
		t.Errorf("jobs %+v", jobs)
	}
}
