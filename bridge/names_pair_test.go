package bridge_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mynakit/mynakit/accesslog"
	"github.com/mynakit/mynakit/bridge"
	"github.com/mynakit/mynakit/oqs/oqssim"
)

// A clinic pairing names its data as the access log and the consent page
// both do: the page describes DataEligibility in words, and the log
// records the pairing as ActionPair with DataEligibility.
func TestClinicPairingNamesItsData(t *testing.T) {
	root := t.TempDir()
	if _, err := oqssim.New(oqssim.Config{Root: root}); err != nil {
		t.Fatal(err)
	}
	e := start(t, withOptions(func(o *bridge.Options) {
		o.Clinic = &bridge.ClinicOptions{Root: root}
	}))
	r := e.do("POST", "/v1/pair", []byte(`{"clinic":true}`), map[string]string{"Origin": appOrigin})
	if r.status != 202 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	v := decodeJSON(t, r.body)
	id := v["id"].(string)
	if v["action"] != string(bridge.ActionPair) {
		t.Fatalf("the operation's action is %v", v["action"])
	}
	if d, _ := v["data"].([]any); len(d) != 1 || d[0] != string(bridge.DataEligibility) {
		t.Fatalf("the operation's data is %v", v["data"])
	}
	if page := e.consentPage(id); !strings.Contains(page, "資格確認の結果: 患者の氏名") {
		t.Fatalf("the consent page does not describe the eligibility results:\n%s", page)
	}
	if a := e.answer(id, url.Values{}); a.status != 200 {
		t.Fatalf("approve: %d %s", a.status, a.body)
	}
	e.op(id, map[string]string{"Origin": appOrigin}, finished)
	_, entries, err := accesslog.Verify(e.log.Path())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, en := range entries {
		found = found || en.Event == accesslog.Begin && en.Action == string(bridge.ActionPair) && slices.Equal(en.Data, []string{string(bridge.DataEligibility)})
	}
	if !found {
		t.Fatalf("no pairing entry with the eligibility data: %+v", entries)
	}
}
