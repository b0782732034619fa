package myna

import (
	"testing"
	"time"
)

func TestEraYYMMDDBoundaries(t *testing.T) {
	cases := map[string]string{
		"1868-01-25": "010125",
		"1912-07-29": "450729",
		"1912-07-30": "010730",
		"1926-12-24": "151224",
		"1926-12-25": "011225",
		"1980-02-17": "550217",
		"1989-01-07": "640107",
		"1989-01-08": "010108",
		"2019-04-30": "310430",
		"2019-05-01": "010501",
	}
	for in, want := range cases {
		d, _ := time.Parse("2006-01-02", in)
		got, err := EraYYMMDD(d)
		if err != nil || got != want {
			t.Errorf("EraYYMMDD(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := EraYYMMDD(time.Date(1868, 1, 24, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a date before Meiji was accepted")
	}
}

func TestCheckDigit(t *testing.T) {
	for in, want := range map[string]byte{"53768667718": '8', "12345678901": '8', "00000000001": '9'} {
		if d, ok := CheckDigit(in); !ok || d != want {
			t.Errorf("CheckDigit(%s) = %c, %v; want %c", in, d, ok, want)
		}
	}
	if !ValidMyNumber("537686677188") || ValidMyNumber("537686677189") || ValidMyNumber("53768667718a") {
		t.Error("ValidMyNumber disagrees with the worked example")
	}
}
