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
// through, on it. A status word (a card's 90 00) is never evidence — a shim
// in front of a genuine card answers anything — and a fact is tied to the
// chip only by a signature, made by a key J-LIS certified, over randomness
// the host chose for this read. Report.Verdict is genuine only when all of
// this holds for everything the report shows:
//
//  1. Signed by J-LIS. The data's J-LIS signature verifies under a J-LIS
//     anchor of the right role: each card-verifiable-certificate CA key
//     verifies only its own applet's certificate (text, card face, card-level
//     chain), and JPKI certificates chain to a JPKI root found by key
//     identifier and signature. Which anchors a verdict rests on, and whether
//     they are J-LIS production keys or test keys, is in Report.Anchors.
//  2. Each applet whose facts are shown proves its own chip, by a presence
//     proof: its certified key signs SHA-256(R ‖ N), R from the card, N fresh
//     from the host, so neither a recorded answer nor a copy of another
//     card's signed files passes. The text applet (My Number, name, address)
//     proves it with the key of its EF 0007, which J-LIS signed under the
//     applet's CV certificate (presence:text), on every read that shows its
//     facts; the card face with the card key inside its signed record
//     (presence:surface). 照合番号A — the text applet's My Number — is how the
//     card face is opened: its acceptance is reported (binding:text-code-a)
//     and a refusal fails, but an acceptance ties nothing. The JPKI
//     certificate is tied by the user-authentication key signing a host
//     nonce (presence:jpki) when the PIN was given (ReadOptions.ProveJPKIKey,
//     and always on a smartphone token, whose certificate needs the PIN);
//     otherwise the JPKI part is reported as "key not proven" (after what the
//     certificate's own check found) and proves nothing about the card, and a
//     read of the JPKI part alone is unknown. The signing certificate is tied
//     only by its own key (CertificateOptions.ProveSignKey) or by its holder
//     facts matching the text applet's (CertificateOptions.MatchText).
//  3. Consistent. What both applets' signed data hold — the birth date and
//     the sex — is compared. Unsigned values — the card expiry, the
//     security-code image, the 共通AP record, the municipality code — are
//     marked unsigned wherever they are shown, and their copies (expiry,
//     municipality) are compared: a disagreement fails a check.
//  4. Complete. A token whose label says it is a card must have every applet
//     the read visits (card:applets); the read learns which are there before
//     it asks for any secret, so a card lacking one is judged with no secret
//     asked or spent. A smartphone token is judged on its JPKI part alone.
//  5. Current. An expired card, or an expired or revoked certificate, is never
//     plain genuine: the verdict is genuine-expired.
//
// Anything that fails is not-genuine — including malformed content under a
// signature, a card that refuses a presence proof, and a My Number whose
// check digit is wrong (such a code is never sent to the card). A check that
// cannot be made because an anchor is missing is unknown. Only a failing
// card, reader or command is an error: bad data never is.
//
// What the verdict cannot rule out: a relay that forwards each applet to a
// different genuine card, both live at once, passes every proof. It needs
// the victim's card in the attacker's reader and the victim's PIN (or
// 照合番号B) to open the text applet; copies, recordings and clones fail.
//
// Exit statuses of the command-line tool follow the verdict: 0 genuine,
// 1 not genuine, 2 unknown, 3 error (card, reader, PIN or usage), 4 genuine
// but expired or revoked.
package mynakit
