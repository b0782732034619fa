package qr

// Summary is a made code in its JSON form: its kind, its text (what the
// code holds), the payload's size in bytes and the QR version (1-40) it
// needs at level M. The members are in name order.
type Summary struct {
	Kind         string `json:"kind"`
	PayloadBytes int    `json:"payload_bytes"`
	QRVersion    int    `json:"qr_version"`
	Text         string `json:"text"`
}

// Summarize is the Summary of p. Its error is the text's; a payload too
// large for any QR version has QRVersion 0.
func Summarize(p *Payload) (Summary, error) {
	text, err := p.Text()
	if err != nil {
		return Summary{}, err
	}
	enc, _ := p.Encode()
	v, _ := QRVersion(p)
	return Summary{Kind: p.Kind.String(), PayloadBytes: len(enc), QRVersion: v, Text: text}, nil
}
