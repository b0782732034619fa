package mynakit

import "github.com/mynakit/mynakit/trust"

// The helpers over a read's checks that the read, the report, the
// certificate operations and signature verification share.

// findCheck is the check named name, and whether there is one (when not,
// an empty check of that name).
func findCheck(checks []trust.Check, name trust.CheckName) (trust.Check, bool) {
	for _, c := range checks {
		if c.Name == name {
			return c, true
		}
	}
	return trust.Check{Name: name}, false
}

// anchorsOf lists the distinct anchors checks rest on, in order.
func anchorsOf(checks []trust.Check) []trust.Anchor {
	seen := map[string]bool{}
	var out []trust.Anchor
	for _, c := range checks {
		if c.Anchor != "" && !seen[c.Anchor] {
			seen[c.Anchor] = true
			out = append(out, trust.Anchor{Name: c.Anchor, Production: c.Production})
		}
	}
	return out
}

// certificateState is what a certificate's check found, in words.
func certificateState(c trust.Check) string {
	switch c.Result {
	case trust.Pass:
		if c.Revoked {
			return "certificate verified, but revoked"
		}
		if c.Expired {
			return "certificate verified, but expired"
		}
		return "certificate valid"
	case trust.Unknown:
		return "certificate not verified (no trust anchor or CRL vouches for it)"
	case trust.Fail:
		return "certificate invalid"
	}
	return "certificate not checked"
}

// unprovenDetail is the detail of a key proof that was not made: what the
// certificate's own check found, then how to tie the certificate.
func unprovenDetail(certCheck trust.Check, how string) string {
	return certificateState(certCheck) + ", key not proven: " + how
}
