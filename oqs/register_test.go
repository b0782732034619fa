package oqs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mynakit/mynakit/oqs"
	"github.com/mynakit/mynakit/oqs/oqssim"
)

// TestRegisterThenFaceCarriesReference registers a 照会番号 through the
// simulated terminal and sees it in the patient's next face result.
func TestRegisterThenFaceCarriesReference(t *testing.T) {
	root := t.TempDir()
	term, err := oqssim.New(oqssim.Config{Root: root, Poll: 5 * time.Millisecond, MedicalInstitutionCode: "1312345678"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go term.Run(ctx)
	c, err := oqs.NewClient(oqs.Config{Root: root, StateDir: t.TempDir(), MedicalInstitutionCode: "1312345678", PollInterval: 5 * time.Millisecond, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	reg := oqs.Registration{ReferenceNumber: "K-77", InsurerNumber: "138016", InsuredCardSymbol: "ﾓｷﾞ", InsuredIdentificationNumber: "3030", InsuredBranchNumber: "00"}
	r, job, err := c.Register(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Body.ProcessingResultStatus != "1" || r.Body.Info == nil || r.Body.Info.ReferenceNumber != "K-77" || job.State != oqs.JobAnswered {
		t.Fatalf("%+v %+v", r.Body, job)
	}
	if filepath.Ext(job.ID) != ".xml" || job.ID[:len(oqs.PrefixRegistrationRequest)] != oqs.PrefixRegistrationRequest {
		t.Errorf("job %s", job.ID)
	}
	path, err := term.EmitFace(ctx, "elderly")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fr, err := oqs.ParseConfirmResult(b)
	if err != nil || fr.Qualifications()[0].ReferenceNumber != "K-77" {
		t.Errorf("face result lacks the registered reference number: %v", err)
	}
	if _, _, err := c.Register(ctx, oqs.Registration{InsurerNumber: "138016", InsuredIdentificationNumber: "1"}); !errors.Is(err, oqs.ErrInvalidRequest) {
		t.Errorf("registration without a reference number: %v", err)
	}
}
