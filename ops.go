package mynakit

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/mynakit/mynakit/jpki"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/trust"
)

// PINStatus reads the tries left on every key of every applet the card
// has, without using a try.
func (c *Card) PINStatus(ctx context.Context) ([]pin.KeyStatus, error) {
	var out []pin.KeyStatus
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		out, err = c.sess.Status(ctx)
		return err
	})
	return out, err
}

// VerifyPIN checks the secret of one key against the card, asking for it.
// The tries left are read first; a VERIFY that could block the key is
// refused unless OpenOptions.AllowLastTry.
func (c *Card) VerifyPIN(ctx context.Context, name myna.KeyName) error {
	key, ok := myna.KeyByName(name)
	if !ok {
		return fmt.Errorf("unknown key %q", name)
	}
	return c.do(ctx, func(ctx context.Context) error { return c.sess.Verify(ctx, key) })
}

// ChangePINs sets every named key to one new value: the current value is
// asked first (tries shown, retry guard applied), then newValue is called
// for the new one — outside any transaction — and nothing reaches the card
// before both are had and the new value is valid. Tries are read on every
// key before any is changed, so a guarded or blocked key refuses the whole
// change; a refusal part-way is reported key by key.
func (c *Card) ChangePINs(ctx context.Context, names []myna.KeyName, newValue func(ctx context.Context, kind myna.Secret) ([]byte, error)) ([]pin.ChangeResult, error) {
	if len(names) == 0 {
		return nil, nil
	}
	first, ok := myna.KeyByName(names[0])
	if !ok {
		return nil, fmt.Errorf("unknown key %q", names[0])
	}
	if err := c.do(ctx, func(ctx context.Context) error { return c.sess.Ask(ctx, first) }); err != nil {
		return nil, err
	}
	nv, err := newValue(ctx, first.Secret)
	if err != nil {
		return nil, err
	}
	defer pin.Wipe(nv)
	var results []pin.ChangeResult
	err = c.do(ctx, func(ctx context.Context) error {
		var err error
		results, err = c.sess.Change(ctx, names, nv)
		return err
	})
	return results, err
}

// CertKind names one of the JPKI certificates.
type CertKind string

const (
	CertAuth CertKind = "auth" // 利用者証明用電子証明書 (free on the card)
	CertSign CertKind = "sign" // 署名用電子証明書 (needs the signing password)
)

// CertificateOptions says how to read and judge a certificate.
type CertificateOptions struct {
	// NoVerify only reads the certificate (for export).
	NoVerify bool
	// ProveKey has the chip sign a fresh host nonce with its
	// user-authentication key (asking for the JPKI PIN), which ties the
	// authentication certificate to the chip. Without it the verdict is at
	// best unknown: a certificate is public, and a blank card can serve a
	// copy of it. It does not tie the signing certificate: nothing on the
	// card links the two keys (see ProveSignKey and MatchText).
	ProveKey bool
	// ProveSignKey (CertSign) has the signing key sign a fresh host nonce
	// under the signing password, domain-separated so that it can never be
	// a document signature (jpki.SignKeyProofContext): the one proof that
	// ties the signing certificate itself to the chip.
	ProveSignKey bool
	// MatchText (CertSign) ties the signing certificate by its holder
	// facts instead: the text applet is read and tied to the chip (asking
	// for its PIN), and the certificate's name, address, birth date and
	// sex must equal its facts.
	MatchText bool
	CRL       *x509.RevocationList
	Now       time.Time
	// Random is the nonce source of the key proof (nil: crypto/rand).
	Random io.Reader
}

// CertificateReport is one JPKI certificate with its verification.
type CertificateReport struct {
	Kind        CertKind
	Certificate *x509.Certificate
	// CA is the card's copy of the issuing CA, compared with the anchors,
	// never trusted itself.
	CA         *x509.Certificate
	Attributes *jpki.Attributes // the signing certificate's holder attributes; nil otherwise
	Checks     []trust.Check
	Verdict    trust.Verdict
}

// Certificate reads a JPKI certificate (asking for the signing password
// for CertSign) and checks it against the anchors now. The chain shows the
// certificate is J-LIS's; only a tie to the chip makes it genuine: for
// CertAuth opts.ProveKey (the authentication key signs a host nonce), for
// CertSign opts.ProveSignKey (the signing key signs a domain-separated
// host nonce, jpki.ProveSignKey) or opts.MatchText (its holder facts equal
// the text applet's, tied to the chip). The authentication key's proof
// never ties a signing certificate: nothing on the card links the two.
func (c *Card) Certificate(ctx context.Context, kind CertKind, opts CertificateOptions) (*CertificateReport, error) {
	var fid, caFID uint16
	var check, caCheck trust.CheckName
	switch kind {
	case CertAuth:
		fid, caFID, check, caCheck = myna.JPKIAuthCert, myna.JPKIAuthCACert, trust.CheckAuthCert, trust.CheckAuthCACert
	case CertSign:
		fid, caFID, check, caCheck = myna.JPKISignCert, myna.JPKISignCACert, trust.CheckSignCert, trust.CheckSignCACert
	default:
		return nil, fmt.Errorf("no certificate %q (want auth or sign)", kind)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	rep := &CertificateReport{Kind: kind}
	err := c.do(ctx, func(ctx context.Context) error {
		jc := jpki.NewCard(c.sess)
		var err error
		if rep.Certificate, err = jc.Certificate(ctx, fid); err != nil || opts.NoVerify {
			return err
		}
		if rep.CA, err = jc.Certificate(ctx, caFID); err != nil {
			return err
		}
		rep.Checks = []trust.Check{
			c.store.VerifyCertificate(rep.Certificate, trust.CertOptions{Name: check, At: now, Now: now, NonRepudiation: kind == CertSign, CRL: opts.CRL}),
			c.store.CompareCardCA(caCheck, rep.CA, rep.Certificate),
		}
		if kind == CertSign {
			if opts.ProveSignKey {
				proof, err := jc.ProveSignKey(ctx, rep.Certificate, rep.Checks[0], opts.Random)
				if err != nil {
					return err
				}
				rep.Checks = append(rep.Checks, proof)
			}
			return nil
		}
		if !opts.ProveKey {
			rep.Checks = append(rep.Checks, trust.Check{Name: trust.CheckPresenceJPKI, Result: trust.Unknown,
				Detail: unprovenDetail(rep.Checks[0], "prove the key (JPKI PIN) to tie it to the chip")})
			return nil
		}
		proof, err := jc.ProveAuthKey(ctx, rep.Certificate, rep.Checks[0], opts.Random)
		if err != nil {
			return err
		}
		rep.Checks = append(rep.Checks, proof)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a, err := jpki.ParseAttributes(rep.Certificate); err == nil {
		rep.Attributes = a
	}
	if kind == CertSign && !opts.NoVerify && !opts.ProveSignKey {
		tie, err := c.tieSignCertificate(ctx, rep, opts)
		if err != nil {
			return nil, err
		}
		rep.Checks = append(rep.Checks, tie)
	}
	if !opts.NoVerify {
		rep.Verdict = trust.Decide(rep.Checks)
	}
	return rep, nil
}

// tieSignCertificate is the binding:sign-certificate check of a signing
// certificate whose own key was not proven: its holder facts against the
// text applet's facts tied to the chip (opts.MatchText), else unknown. The
// authentication key's proof is never taken for it: nothing on the card
// links the signing certificate to that key, and a signing certificate is
// inside every CMS its holder signs, so any card could serve another
// person's.
func (c *Card) tieSignCertificate(ctx context.Context, rep *CertificateReport, opts CertificateOptions) (trust.Check, error) {
	if !opts.MatchText {
		return trust.Check{Name: trust.CheckBindingSignCert, Result: trust.Unknown,
			Detail: unprovenDetail(rep.Checks[0], "a signing certificate is public; prove its own key (--prove-sign-key, signing password) or match it with the chip's text facts (--match-text) to tie it to the chip")}, nil
	}
	r, err := c.Read(ctx, ReadOptions{Parts: []Part{PartText}, CRL: opts.CRL, Now: opts.Now, Random: opts.Random})
	if err != nil {
		return trust.Check{}, err
	}
	rep.Checks = append(rep.Checks, r.Checks...)
	if r.Text == nil {
		return trust.Check{Name: trust.CheckBindingSignCert, Result: trust.Unknown, Detail: "the text applet's facts could not be read to compare the signing certificate with"}, nil
	}
	tied := trust.Check{Name: trust.CheckBindingSignCert, Result: trust.Unknown}
	if v := r.Verdict; v == trust.Genuine || v == trust.GenuineExpired {
		tied.Result = trust.Pass
		for _, ch := range r.Checks {
			if ch.Anchor != "" {
				tied.Anchor, tied.Production = ch.Anchor, ch.Production
				break
			}
		}
	}
	t := r.Text
	f := jpki.TextFacts{Name: t.Name, Address: t.Address, BirthDate: t.BirthDate, Sex: string(t.Sex)}
	return jpki.MatchTextFacts(rep.Attributes, f, tied), nil
}

// Transmit sends raw command APDUs in one transaction and returns the raw
// responses, for developers' tools. 61xx and 6Cxx are not followed. If any
// command carries a secret, nothing is sent and the error is
// pin.ErrSecretInAPDU, unless allowSecret. On an error the responses so far
// are returned.
func (c *Card) Transmit(ctx context.Context, cmds [][]byte, allowSecret bool) ([][]byte, error) {
	if !allowSecret {
		if err := pin.RefuseSecrets(cmds); err != nil {
			return nil, err
		}
	}
	var resps [][]byte
	err := c.do(ctx, func(ctx context.Context) error {
		defer c.sess.Invalidate() // the commands may have changed the card's state
		for _, cmd := range cmds {
			resp, err := c.t.Transmit(ctx, cmd)
			if err != nil {
				return err
			}
			resps = append(resps, resp)
		}
		return nil
	})
	return resps, err
}
