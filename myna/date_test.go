package myna

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDateRoundTrip(t *testing.T) {
	for _, s := range []string{"1868-01-01", "1980-02-17", "2000-02-29", "2035-02-17", "9999-12-31"} {
		d, err := ParseDate(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if d.String() != s {
			t.Fatalf("%s prints as %s", s, d)
		}
		c, err := ParseCompactDate(d.Compact())
		if err != nil || c != d {
			t.Fatalf("%s: compact round trip gave %v, %v", s, c, err)
		}
		if got := DateOf(d.Time()); got != d {
			t.Fatalf("%s: Time round trip gave %v", s, got)
		}
		js, err := json.Marshal(d)
		if err != nil || string(js) != `"`+s+`"` {
			t.Fatalf("%s marshals as %s, %v", s, js, err)
		}
		var back Date
		if err := json.Unmarshal(js, &back); err != nil || back != d {
			t.Fatalf("%s: JSON round trip gave %v, %v", s, back, err)
		}
	}
}

func TestDateZero(t *testing.T) {
	var d Date
	if !d.IsZero() || d.String() != "" || d.Compact() != "" {
		t.Fatalf("zero date prints as %q", d)
	}
	js, _ := json.Marshal(struct {
		A Date `json:"a"`
		B Date `json:"b,omitzero"`
	}{})
	if string(js) != `{"a":""}` {
		t.Fatalf("zero dates marshal as %s", js)
	}
	back := Date{2000, 1, 1}
	if err := json.Unmarshal([]byte(`""`), &back); err != nil || !back.IsZero() {
		t.Fatalf(`"" unmarshals to %v, %v`, back, err)
	}
}

func TestDateRejects(t *testing.T) {
	for _, s := range []string{"", "1980-2-17", "1980/02/17", "19800217", "1980-02-30", "2001-02-29", "1867-12-31", "1980-13-01", "1980-00-10", "1980-01-00", "+980-01-01", "1980-02-17 ", "１９８０-02-17"} {
		if d, err := ParseDate(s); err == nil || !errors.Is(err, ErrDate) {
			t.Errorf("%q parsed as %v (err %v)", s, d, err)
		}
	}
	var d Date
	if err := json.Unmarshal([]byte(`"1980-02-30"`), &d); err == nil {
		t.Fatal("JSON took February 30th")
	}
}

func TestDateOrder(t *testing.T) {
	a, b, c := Date{1980, 2, 17}, Date{1980, 3, 1}, Date{1981, 1, 1}
	if !a.Before(b) || !b.Before(c) || !a.Before(c) || a.Before(a) || !c.After(a) || a.After(b) {
		t.Fatal("order is wrong")
	}
	if got := (Date{2035, 2, 17}).In(time.FixedZone("JST", 9*3600)); got.Format(time.RFC3339) != "2035-02-17T00:00:00+09:00" {
		t.Fatalf("In gives %v", got)
	}
}

func FuzzParseDate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if !d.IsZero() {
				t.Fatal("an error with a non-zero date")
			}
			return
		}
		// Whatever parses prints back exactly, and is a real day.
		if d.String() != s {
			t.Fatalf("%q prints as %q", s, d)
		}
		if DateOf(d.Time()) != d || d.Year < 1868 {
			t.Fatalf("%q is not a real day: %v", s, d)
		}
		if c, err := ParseCompactDate(d.Compact()); err != nil || c != d {
			t.Fatalf("%q: compact form does not parse back", s)
		}
	})
}

func FuzzParseCompactDate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseCompactDate(s)
		if err != nil {
			return
		}
		if d.Compact() != s || DateOf(d.Time()) != d || d.Year < 1868 {
			t.Fatalf("%q parses as %v", s, d)
		}
		if e, err := ParseDate(d.String()); err != nil || e != d {
			t.Fatalf("%q: the dashed form does not parse back", s)
		}
	})
}

func BenchmarkParseCompactDate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCompactDate("19800217"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDateJSON(b *testing.B) {
	d := Date{1980, time.February, 17}
	b.ReportAllocs()
	for b.Loop() {
		js, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(js, &d); err != nil {
			b.Fatal(err)
		}
	}
}
