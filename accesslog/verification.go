package accesslog

// Verification is the JSON form of a check of the log at Path: the count
// of complete entries, the head file's record (null when none could be
// read), whether nothing is damaged, and each problem found. The members
// are in name order.
type Verification struct {
	Entries  int       `json:"entries"`
	Head     *Head     `json:"head"`
	Intact   bool      `json:"intact"`
	Path     string    `json:"path"`
	Problems []Problem `json:"problems"`
}

// Verification is r, for the log at path, in its JSON form.
func (r Report) Verification(path string) Verification {
	return Verification{Entries: r.Entries, Head: r.Head, Intact: r.Intact(), Path: path, Problems: r.Problems}
}
