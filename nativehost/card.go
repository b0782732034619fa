package nativehost

import (
	"context"
	"crypto/x509"

	"github.com/mynakit/mynakit"
)

// FromCard adapts an open card to the host.
func FromCard(c *mynakit.Card) Card { return cardAdapter{c} }

type cardAdapter struct{ *mynakit.Card }

func (c cardAdapter) SigningCertificate(ctx context.Context) (*x509.Certificate, error) {
	rep, err := c.Certificate(ctx, mynakit.CertSign, mynakit.CertificateOptions{NoVerify: true})
	if err != nil {
		return nil, err
	}
	return rep.Certificate, nil
}
