package oqs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mynakit/mynakit/internal/atomicfile"
)

// JobState is where a request is on its way. A job is written to the state
// directory before its request is published, and moves forward only.
type JobState string

// The states of a job.
const (
	// JobPrepared: saved, its request not yet in req. Publishing it is safe.
	JobPrepared JobState = "prepared"
	// JobPublishing: the rename into req was begun. Whether the terminal got
	// the request is uncertain, so it is never sent again; its result is
	// waited for.
	JobPublishing JobState = "publishing"
	// JobPublished: the request is in req (or was consumed); waiting.
	JobPublished JobState = "published"
	// JobAnswered: a result that matches the request was read.
	JobAnswered JobState = "answered"
	// JobAbandoned: given up by a person (or refused before publishing).
	JobAbandoned JobState = "abandoned"
)

// Pending reports whether the job still waits for its result.
func (s JobState) Pending() bool {
	return s == JobPrepared || s == JobPublishing || s == JobPublished
}

// Job is one request and what became of it. Its ID is the request's file
// name, which is also how its result is found.
type Job struct {
	ID                     string        `json:"id"`
	Kind                   string        `json:"kind"`
	State                  JobState      `json:"state"`
	Key                    string        `json:"key"`
	MedicalInstitutionCode string        `json:"medical_institution_code"`
	FileIdentifier         string        `json:"file_identifier"`
	Request                *Request      `json:"request,omitempty"`
	Registration           *Registration `json:"registration,omitempty"`
	Encoding               string        `json:"encoding"`
	Created                time.Time     `json:"created"`
	Published              time.Time     `json:"published,omitzero"`
	Answered               time.Time     `json:"answered,omitzero"`
	// ResultName is the file name of the answer in res.
	ResultName string `json:"result_name"`
	Note       string `json:"note,omitempty"`
	// RequestFile is the request exactly as published (base64 in JSON),
	// kept in the job so a job saved but not yet published can be
	// published later without being rebuilt.
	RequestFile []byte `json:"request_file"`
}

var (
	// ErrNoSuchJob is returned for a job ID the state directory lacks.
	ErrNoSuchJob = errors.New("oqs: no such job")
	// ErrSequenceExhausted is returned after 9999 requests in one day.
	ErrSequenceExhausted = errors.New("oqs: all 9999 request numbers of the day are used")
)

// store keeps jobs, request bytes, result copies and the day's sequence
// in a local directory (never on the share).
type store struct{ dir string }

func (s *store) jobsDir() string          { return filepath.Join(s.dir, "jobs") }
func (s *store) jobPath(id string) string { return filepath.Join(s.jobsDir(), id+".json") }
func (s *store) resultPath(name string) string {
	return filepath.Join(s.dir, "results", name)
}

// pendingDir holds an empty marker per unfinished job, so finding a
// pending job does not read every job ever made.
func (s *store) pendingDir() string { return filepath.Join(s.dir, "pending") }

func (s *store) init() error {
	for _, d := range []string{s.jobsDir(), s.pendingDir(), filepath.Join(s.dir, "results")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("state directory: %w", err)
		}
	}
	return nil
}

// writeFileSync writes a file and flushes it to disk.
func writeFileSync(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *store) save(j *Job) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(s.jobPath(j.ID), b, atomicfile.Private); err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	if !j.State.Pending() {
		if err := os.Remove(filepath.Join(s.pendingDir(), j.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("save job %s: %w", j.ID, err)
		}
	}
	return nil
}

func (s *store) load(id string) (*Job, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || id != filepath.Base(id) {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchJob, id)
	}
	b, err := os.ReadFile(s.jobPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchJob, id)
	}
	if err != nil {
		return nil, err
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	return &j, nil
}

// all returns every job, oldest name first.
func (s *store) all() ([]*Job, error) {
	ents, err := os.ReadDir(s.jobsDir())
	if err != nil {
		return nil, err
	}
	var out []*Job
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ".json") {
			continue
		}
		j, err := s.load(strings.TrimSuffix(n, ".json"))
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out, nil
}

// pending finds the oldest unfinished job asking the same question.
func (s *store) pending(key string) (*Job, error) {
	ents, err := os.ReadDir(s.pendingDir())
	if err != nil {
		return nil, err
	}
	for _, e := range ents { // sorted by name: oldest first
		j, err := s.load(e.Name())
		if errors.Is(err, ErrNoSuchJob) {
			os.Remove(filepath.Join(s.pendingDir(), e.Name()))
			continue
		}
		if err != nil {
			return nil, err
		}
		if j.Key == key && j.State.Pending() {
			return j, nil
		}
	}
	return nil, nil
}

type sequence struct {
	Day  string `json:"day"`
	Last int    `json:"last"`
}

func (s *store) seqPath() string { return filepath.Join(s.dir, "sequence.json") }

// reserve gives the job the next free request name of the day and saves
// it, request bytes included, before anything is published. A name is
// free when no job has it and taken(name) is false (the caller checks the
// share for the request and its result). Job files are created with a
// hard link, which fails if the name exists (atomicfile.WriteNew), so two
// processes sharing the state directory never get the same name, and
// neither's job file holds the other's request.
func (s *store) reserve(j *Job, prefix string, day time.Time, request []byte, taken func(name string) (bool, error)) error {
	d := day.Format("20060102")
	var seq sequence
	if b, err := os.ReadFile(s.seqPath()); err == nil {
		_ = json.Unmarshal(b, &seq)
	}
	start := 1
	if seq.Day == d {
		start = seq.Last + 1
	}
	for n := start; n <= MaxSequence; n++ {
		name := RequestName(prefix, day, n)
		if t, err := taken(name); err != nil {
			return err
		} else if t {
			continue
		}
		j.ID = name
		j.ResultName, _ = ResultName(name)
		j.RequestFile = request
		b, err := json.MarshalIndent(j, "", "  ")
		if err != nil {
			return err
		}
		err = atomicfile.WriteNew(s.jobPath(name), b, atomicfile.Private)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("save job %s: %w", name, err)
		}
		if err := writeFileSync(filepath.Join(s.pendingDir(), name), nil, 0o600); err != nil {
			return fmt.Errorf("mark job %s pending: %w", name, err)
		}
		nb, _ := json.Marshal(sequence{Day: d, Last: n})
		if err := atomicfile.WriteFile(s.seqPath(), nb, atomicfile.Private); err != nil {
			return fmt.Errorf("save sequence: %w", err)
		}
		return nil
	}
	return ErrSequenceExhausted
}
