package mynakit_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mynakit/mynakit"
	"github.com/mynakit/mynakit/internal/simtest"
)

// A card that answers none of the applets — another kind of card — is
// named as such, with its ATR, before any secret is asked.
func TestUnknownCardIsNamedWithItsATR(t *testing.T) {
	img := simtest.Image(t)
	for aid := range img.Applets {
		delete(img.Applets, aid)
	}
	prompts := simtest.NewPrompter("1234")
	card := simtest.Open(t, simtest.Sim(t, img), mynakit.OpenOptions{Prompter: prompts})
	_, err := card.Read(context.Background(), mynakit.ReadOptions{})
	var unknown *mynakit.UnknownCardError
	if !errors.As(err, &unknown) {
		t.Fatalf("err = %v, want *UnknownCardError", err)
	}
	if !strings.HasPrefix(unknown.ATRHex(), "3B ") || !strings.Contains(err.Error(), unknown.ATRHex()) {
		t.Fatalf("ATR not named: %v", err)
	}
	if prompts.Count() != 0 {
		t.Fatalf("%d secrets asked of a card that is not a My Number Card", prompts.Count())
	}
}
