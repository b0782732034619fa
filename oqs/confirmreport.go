package oqs

// ConfirmReport is the JSON form of a confirmation: the job, whether this
// call only waited for an earlier request's result, the file the result
// was read from, and the eligibility's members beside them. A confirmation
// still pending has the job, pending and the error instead.
type ConfirmReport struct {
	Job        string `json:"job"`
	Resumed    bool   `json:"resumed"`
	ResultFile string `json:"result_file,omitempty"`
	Pending    bool   `json:"pending,omitempty"`
	Error      string `json:"error,omitempty"`
	*Eligibility
}

// Report is r's ConfirmReport.
func (r *Result) Report() ConfirmReport {
	e := r.Eligibility()
	return ConfirmReport{Job: r.Job.ID, Resumed: r.Resumed, ResultFile: r.Path, Eligibility: &e}
}

// PendingReport is the ConfirmReport of job, still pending when err (a
// TimeoutError, or one wrapping it) ended the wait.
func PendingReport(job Job, err error) ConfirmReport {
	return ConfirmReport{Job: job.ID, Pending: true, Error: err.Error()}
}
