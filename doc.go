// Package mynakit reads, verifies and signs with Japan's Individual Number
// Card (個人番号カード, マイナンバーカード) through any PC/SC reader.
//
// Open a reader, read the card with one PIN prompt, and get a verdict:
//
//	card, err := mynakit.Open(ctx, mynakit.OpenOptions{Prompter: prompter})
//	if err != nil { ... }
//	defer card.Close()
//	report, err := card.Read(ctx, mynakit.ReadOptions{})
//	if err != nil { ... }           // the card, the reader or a PIN failed
//	fmt.Println(report.Verdict)     // genuine, genuine-expired, not-genuine, unknown
//
// A Card serialises its operations and holds a PC/SC transaction only while
// it talks to the card: secrets are asked for outside any transaction
// (Windows resets a card held in one for more than five seconds, and a held
// card keeps other applications waiting). OpenTransport opens a card on any
// apdu.Transport, such as the in-process simulator.
//
// # What "genuine" means
//
// The verdict is the product: a clerk turns a person away, or lets a forgery
// through, on it. Report.Verdict is genuine only when all of this holds for
// everything the report shows:
//
//  1. Signed by J-LIS. The data's J-LIS signature verifies under a J-LIS
//     anchor of the right role: each card-verifiable-certificate CA key
//     verifies only its own applet's certificate (text, card face, card-level
//     chain), and JPKI certificates chain to a JPKI root found by key
//     identifier and signature. Which anchors a verdict rests on, and whether
//     they are J-LIS production keys or test keys, is in Report.Anchors.
//  2. Tied to the chip in the reader, by a proof over randomness the host
//     chose just now, so a recorded answer cannot be replayed. The card face
//     is tied by a presence proof: the card key certified inside the signed
//     card face signs SHA-256(R ‖ N), R from the card, N from the host
//     (check presence:surface). The text data (My Number, name, address) is
//     tied by the card-face applet — the same chip that passed the presence
//     proof — accepting the text applet's My Number as 照合番号A
//     (binding:text-code-a), or, when the card face was opened another way,
//     by a presence proof on the text applet with its EF 0007 key
//     (presence:text). The JPKI certificate is tied by the
//     user-authentication key signing a host nonce (presence:jpki) when the
//     PIN was given (ReadOptions.ProveJPKIKey, and always on a smartphone
//     token, whose certificate needs the PIN); otherwise the JPKI part is
//     reported as "certificate valid, key not proven" and proves nothing
//     about the card, and a read of the JPKI part alone is unknown.
//  3. Complete. A token whose label says it is a card must have every applet
//     the read visits (card:applets); a smartphone token is judged on its
//     JPKI part alone.
//  4. Consistent. Unsigned values — the card expiry, the security-code image,
//     the 共通AP record, the municipality code — are marked unsigned wherever
//     they are shown, and copies of one fact (birth date, sex, expiry,
//     municipality) are compared: a disagreement fails a check.
//  5. Current. An expired card, or an expired or revoked certificate, is never
//     plain genuine: the verdict is genuine-expired.
//
// Anything that fails is not-genuine — including malformed content under a
// signature, a card that refuses a presence proof, and a My Number whose
// check digit is wrong (such a code is never sent to the card). A check that
// cannot be made because an anchor is missing is unknown. Only a failing
// card, reader or command is an error: bad data never is.
//
// Exit statuses of the command-line tool follow the verdict: 0 genuine,
// 1 not genuine, 2 unknown, 3 error (card, reader, PIN or usage), 4 genuine
// but expired or revoked.
package mynakit
