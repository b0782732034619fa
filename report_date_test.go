package mynakit_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/myna"
)

// Dates are myna.Date in Go and the same strings as before in JSON: an
// unknown date is "" where the member is always present and absent where
// it was omitempty (the default read's golden file covers the known ones).
func TestReportDatesInJSON(t *testing.T) {
	birth := myna.Date{Year: 1980, Month: time.February, Day: 17}
	r := &mynakit.Report{
		Text:    &mynakit.TextPart{Name: "x"},
		Surface: &mynakit.SurfacePart{BirthDate: birth, AgeBirthDate: birth},
		Common:  &mynakit.CommonPart{},
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(js)
	for _, want := range []string{
		`"text":{"name":"x","address":"","birth_date":"","sex":""}`,
		`"surface":{"birth_date":"1980-02-17",`,
		`"age_birth_date":"1980-02-17"`,
		`"unsigned":{"expiry_date":"","security_code_image":null}`,
		`"common":{"unsigned":{"serial":"","municipality_code":"","expiry_date":""}}`,
		`"expiry":{"card_signed":false,`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report JSON lacks %s:\n%s", want, s)
		}
	}
}
