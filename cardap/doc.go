// Package cardap reads the card-surface applets of the Individual Number
// Card and checks the J-LIS signatures over them (docs/card.md §2.2-2.4,
// §5.4-5.9):
//
//   - 券面事項入力補助AP (Text): the My Number file as stored, the four basic
//     facts (name, address, birth date, sex), the integrity record whose
//     digests and signature cover both, and the applet's card-verifiable
//     certificate;
//   - 券面事項確認AP (Surface): the card face (birth date, sex, the card's
//     public key, name and address images, photo, signature, expiry date,
//     security-code image) and its card-verifiable certificate;
//   - 共通AP (Common): card serial, municipality code and expiry;
//   - the card-presence proof: a fresh challenge signed by the card's key.
//
// Parsed values sit beside the raw bytes the card returned, so a verifier
// (or a QR code) re-checks exactly what was read. Every digest is taken over
// the objects "as stored": tlv.TLV.Raw, never a re-encoding. The
// card-level chain of card-verifiable certificates is read and checked here
// too (docs/card.md §2.6, §5.5).
//
// Reading and judging are separate steps. Read* functions fetch bytes
// through a Session (a *pin.Session) and return an error only when the
// card could not be asked (it was pulled, the reader vanished, a PIN was
// refused); a file the card refuses or sends malformed is recorded as a
// Fault. Verify* functions turn those bytes into facts and trust.Checks and
// never fail: malformed content under a signature is a failed check, never
// an error. The package does no file I/O: package cvcache keeps its CV
// certificate cache in a file.
package cardap
