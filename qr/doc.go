// Package qr makes and checks offline-verifiable QR codes of card facts.
// A code carries a small, versioned CBOR payload (RFC 8949, deterministic
// encoding) holding card data exactly as stored on the chip together with
// the J-LIS signatures over it, so anyone with the J-LIS CV CA keys can
// verify it later without the card (see README.md for the format).
//
// Two kinds exist:
//
//   - age: the card-face applet's age-verification record (birth date and
//     card key, signed by DF13) with the applet's CV certificate. It says
//     "a genuine card states this person was born on D" and nothing else —
//     but the card key in it is the card's own, so two age codes from one
//     card can be linked to each other.
//   - attributes: the text applet's four basic facts (name, address, birth
//     date, sex) with the My Number file's digest, the integrity signature
//     and the CV certificate. The digest of a 12-digit number with a check
//     digit can be found by trying all 10^11 candidates in minutes, so an
//     attributes code effectively discloses the My Number.
//
// A genuine verdict rests on J-LIS's signatures, but a code proves no card
// presence: it is data, and a copy of someone else's code verifies as well.
package qr
