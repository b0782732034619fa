package loopback

import "testing"

func TestHost(t *testing.T) {
	for h, want := range map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "::1": true, "[::1]": true, "localhost": true, "LOCALHOST": true,
		"0.0.0.0": false, "": false, "192.168.1.10": false, "localhost.example.com": false, "::": false, "10.0.0.1": false,
	} {
		if got := Host(h); got != want {
			t.Errorf("Host(%q) = %v, want %v", h, got, want)
		}
	}
	if _, _, err := Addr("0.0.0.0:7457"); err == nil {
		t.Error("0.0.0.0 accepted as loopback")
	}
	if h, p, err := Addr("[::1]:35963"); err != nil || h != "::1" || p != "35963" {
		t.Errorf("Addr([::1]:35963) = %q %q %v", h, p, err)
	}
}
