package jpki

import (
	"fmt"
	"strings"

	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/trust"
)

// TextFacts are the four basic facts (基本4情報) as the text applet
// (券面事項入力補助AP) holds them.
type TextFacts struct {
	Name      string
	Address   string
	BirthDate myna.Date
	Sex       string // male, female, not-applicable, unknown
}

// MatchTextFacts ties a signing certificate to the chip through its holder
// attributes: they must equal the text facts a read of the same card tied
// to the chip (textTied is the verdict of that read's text part, which
// must be Pass). Name and address are compared character by character,
// except at the positions the certificate flags as substitute characters
// (代替文字, docs/card.md §5.2); birth date and sex exactly. The check is
// trust.CheckBindingSignCert: Pass on a match of facts tied to the chip,
// Fail on a mismatch, Unknown when the facts are not tied or absent.
func MatchTextFacts(a *Attributes, f TextFacts, textTied trust.Check) trust.Check {
	ch := trust.Check{Name: trust.CheckBindingSignCert, Anchor: textTied.Anchor, Production: textTied.Production}
	if a == nil {
		ch.Result, ch.Detail = trust.Unknown, "the signing certificate carries no holder attributes to compare"
		return ch
	}
	var diff []string
	if !sameText(a.Name, a.NameSubstitution, f.Name) {
		diff = append(diff, "name")
	}
	if !sameText(a.Address, a.AddressSubstitution, f.Address) {
		diff = append(diff, "address")
	}
	if a.BirthDate.IsZero() || a.BirthDate != f.BirthDate {
		diff = append(diff, "birth date")
	}
	if a.Sex != f.Sex {
		diff = append(diff, "sex")
	}
	switch {
	case len(diff) > 0:
		ch.Result = trust.Fail
		ch.Detail = fmt.Sprintf("the signing certificate's %s differ from the text applet's: it is another person's certificate", strings.Join(diff, ", "))
	case textTied.Result != trust.Pass:
		ch.Result = trust.Unknown
		ch.Detail = "the signing certificate's holder facts match the text applet's, but those are not tied to the chip"
	default:
		ch.Result = trust.Pass
		ch.Detail = "the signing certificate's name, address, birth date and sex match the text applet's facts, which this chip proved"
	}
	return ch
}

// sameText compares a certificate's text with the card's, skipping the
// characters flags marks with '1' (a substitute character in the
// certificate). Without flags the texts must be equal.
func sameText(cert, flags, card string) bool {
	if cert == "" || card == "" {
		return false
	}
	if !strings.Contains(flags, "1") {
		return cert == card
	}
	c, k, fl := []rune(cert), []rune(card), []rune(flags)
	if len(c) != len(k) || len(fl) != len(c) {
		return false
	}
	for i := range c {
		if fl[i] != '1' && c[i] != k[i] {
			return false
		}
	}
	return true
}
