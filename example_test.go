package mynakit_test

import (
	"context"
	"fmt"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/pin"
	"github.com/mynakit/mynakit/simulator"
	"github.com/mynakit/mynakit/simulator/persona"
)

// Read the simulated card of the default persona with its PIN and print
// the verdict. A real card is opened with mynakit.Open instead.
func Example() {
	ctx := context.Background()
	img, _ := persona.Build(persona.Default())
	sim, _ := simulator.New(img)
	answer := pin.PromptFunc(func(context.Context, pin.Request) ([]byte, error) { return []byte("1234"), nil })

	card, err := mynakit.OpenTransport(sim, "simulator", mynakit.OpenOptions{Prompter: answer})
	if err != nil {
		panic(err)
	}
	defer card.Close()
	report, err := card.Read(ctx, mynakit.ReadOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(report.Text.Name, report.Text.BirthDate)
	fmt.Println(report.Verdict, "on test anchors:", report.TestAnchors())
	// Output:
	// 黒桐　幹也 1980-02-17
	// genuine on test anchors: true
}
