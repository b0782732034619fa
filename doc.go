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
// Report.Verdict is the product: a clerk turns a person away, or lets a
// forgery through, on it. The rule it follows — which signatures, presence
// proofs and comparisons make a read genuine, what makes it not-genuine or
// unknown, and what no verdict can rule out — is written once, in the
// README's section "What genuine means":
// https://github.com/mynakit/mynakit#what-genuine-means
package mynakit
