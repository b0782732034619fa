package mynakit_test

import (
	"context"
	"fmt"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/myna"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
)

// simulatedCard opens the default persona's simulated card; the prompter
// answers the PIN and the signing password the way a person would type them.
func simulatedCard() (*mynakit.Card, *simulator.Card) {
	img, _ := persona.Build(persona.Default())
	sim, _ := simulator.New(img)
	answer := pin.PromptFunc(func(_ context.Context, r pin.Request) ([]byte, error) {
		if r.Kind == myna.SignPassword {
			return []byte("ABC123"), nil
		}
		return []byte("1234"), nil
	})
	card, err := mynakit.OpenTransport(sim, "simulator", mynakit.OpenOptions{Prompter: answer})
	if err != nil {
		panic(err)
	}
	return card, sim
}

// Sign a document with the card's signing key: a detached CMS signature
// (asking for the signing password once).
func ExampleCard_SignDocument() {
	card, _ := simulatedCard()
	defer card.Close()
	sig, err := card.SignDocument(context.Background(), []byte("a document"), mynakit.SignOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("signed:", len(sig) > 0)
	// Output:
	// signed: true
}

// Verify a detached CMS signature over a document. Here the signature was
// made by the simulated card, so its test anchors are added; a signature
// from a real card needs only the embedded J-LIS anchors.
func ExampleVerifySignature() {
	card, sim := simulatedCard()
	defer card.Close()
	doc := []byte("a document")
	sig, err := card.SignDocument(context.Background(), doc, mynakit.SignOptions{})
	if err != nil {
		panic(err)
	}

	rep, err := mynakit.VerifySignature(doc, sig, mynakit.SignatureOptions{TestAnchors: sim})
	if err != nil {
		panic(err) // not a signature at all; a bad signature is a verdict
	}
	fmt.Println(rep.Verdict)
	fmt.Println(rep.Attributes.Name)
	rep, _ = mynakit.VerifySignature([]byte("another document"), sig, mynakit.SignatureOptions{TestAnchors: sim})
	fmt.Println(rep.Verdict)
	// Output:
	// genuine
	// 黒桐　幹也
	// not-genuine
}

// Ask how many tries each PIN and password has left, without presenting
// any secret.
func ExampleCard_PINStatus() {
	card, _ := simulatedCard()
	defer card.Close()
	keys, err := card.PINStatus(context.Background())
	if err != nil {
		panic(err)
	}
	for _, k := range keys {
		fmt.Printf("%s: %d of %d\n", k.Name, k.Remaining, k.Max)
	}
	// Output:
	// jpki-auth-pin: 3 of 3
	// jpki-sign-password: 5 of 5
	// text-pin: 3 of 3
	// text-code-a: 10 of 10
	// text-code-b: 10 of 10
	// surface-code-a: 10 of 10
	// surface-code-b: 10 of 10
	// common-pin: 3 of 3
	// juki-pin: 3 of 3
}
