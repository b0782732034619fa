package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mynakit/mynakit/apdu"
	"github.com/mynakit/mynakit/cardap"
	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

// parts of the card a read covers.
type parts struct{ jpki, text, surface, common bool }

func parseParts(only string) (parts, error) {
	if only == "" {
		return parts{true, true, true, true}, nil
	}
	var p parts
	for _, s := range strings.Split(only, ",") {
		switch strings.TrimSpace(s) {
		case "jpki":
			p.jpki = true
		case "text":
			p.text = true
		case "surface":
			p.surface = true
		case "common":
			p.common = true
		default:
			return p, fmt.Errorf("--only: unknown part %q (want jpki, text, surface, common)", s)
		}
	}
	return p, nil
}

// cardRead is everything one read found, with its checks.
type cardRead struct {
	Text     *cardap.Text
	Surface  *cardap.Surface
	Common   *cardap.Common
	AuthCert *x509.Certificate
	AuthCA   *x509.Certificate
	SignCA   *x509.Certificate
	Token    jpki.Token
	Missing  []string // applets the card does not have
	Checks   []trust.Check
	Verdict  trust.Verdict
}

// readCard reads the requested parts with one PIN session and verifies
// them. Reading the text applet first lets the surface applet open with the
// My Number, so one short PIN covers everything.
func readCard(ctx context.Context, h *cardHandle, sess *pin.Session, store *trust.Store, crl *x509.RevocationList, p parts, progress func(string)) (*cardRead, error) {
	r := &cardRead{}
	err := h.Card.WithTransaction(ctx, func() error {
		if p.text && r.has(ctx, sess, myna.Text) {
			progress("券面事項入力補助AP (text)")
			t, err := cardap.ReadText(ctx, sess)
			if err != nil {
				return err
			}
			r.Text = t
			r.Checks = append(r.Checks, t.Verify(store)...)
		}
		if p.surface && r.has(ctx, sess, myna.Surface) {
			progress("券面事項確認AP (card face)")
			s, err := cardap.ReadSurface(ctx, sess, cardap.SurfaceOptions{})
			if err != nil {
				return err
			}
			r.Surface = s
			checks := s.Verify(store)
			r.Checks = append(r.Checks, checks...)
			var faceCheck trust.Check
			for _, c := range checks {
				if c.Name == "surface:face-signature" {
					faceCheck = c
				}
			}
			progress("card-presence proof")
			r.Checks = append(r.Checks, cardap.ProvePresence(ctx, sess, myna.Surface, s.CardKey, faceCheck))
		}
		if r.Text != nil && r.Surface != nil {
			r.Checks = append(r.Checks, consistency(r.Text, r.Surface))
		}
		if r.Text != nil || r.Surface != nil {
			progress("card-level CV chain")
			if chain, err := cardap.ReadCardChain(ctx, sess); err == nil {
				r.Checks = append(r.Checks, chain.Verify(store)...)
			} else if !errors.Is(err, apdu.ErrDataNotFound) {
				r.Checks = append(r.Checks, trust.Check{Name: "card:cv-chain-root", Result: trust.Unknown, Detail: err.Error()})
			}
		}
		if p.common && r.has(ctx, sess, myna.Common) {
			progress("共通AP (card information)")
			c, err := cardap.ReadCommon(ctx, sess)
			if err != nil {
				return err
			}
			r.Common = c
		}
		if p.jpki {
			progress("公的個人認証AP (JPKI)")
			jc := jpki.NewCard(sess)
			tok, _, err := jc.Token(ctx)
			if err != nil {
				return err
			}
			r.Token = tok
			if r.AuthCert, err = jc.AuthCertificate(ctx); err != nil {
				return err
			}
			if r.AuthCA, err = jc.AuthCACertificate(ctx); err != nil {
				return err
			}
			r.Checks = append(r.Checks, store.VerifyCertificate(r.AuthCert, trust.CertOptions{Name: "x509:auth-certificate", At: time.Now(), CRL: crl}))
			// The card's CA certificates are compared with the anchors,
			// never trusted themselves.
			r.Checks = append(r.Checks, store.CompareCardCA("x509:auth-ca-certificate", r.AuthCA, r.AuthCert))
			switch signCA, err := jc.SignCACertificate(ctx); {
			case err == nil:
				r.SignCA = signCA
				r.Checks = append(r.Checks, store.CompareCardCA("x509:sign-ca-certificate", signCA, nil))
			case errors.Is(err, apdu.ErrFileNotFound):
				// A token without the signing certificate's CA file.
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Verdict = trust.Decide(r.Checks)
	return r, nil
}

// has reports whether the card has applet a; a smartphone JPKI token has
// only the JPKI applet. Applets it lacks are listed in Missing.
func (r *cardRead) has(ctx context.Context, sess *pin.Session, a myna.Applet) bool {
	if err := sess.Select(ctx, a); errors.Is(err, apdu.ErrFileNotFound) {
		r.Missing = append(r.Missing, a.Name())
		return false
	}
	return true // other errors surface on the read itself
}

// consistency compares the birth date and sex the two applets hold.
func consistency(t *cardap.Text, s *cardap.Surface) trust.Check {
	c := trust.Check{Name: "consistency:text-surface", Result: trust.Pass, Detail: "birth date and sex agree between the text applet and the card face"}
	if t.BirthDate != s.BirthDate || t.Sex != s.Sex {
		c.Result, c.Detail = trust.Fail, "birth date or sex differs between the text applet and the card face"
	}
	return c
}
