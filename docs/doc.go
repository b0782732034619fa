// Package docs holds the repository's own description of the card
// (card.md) and of the OQS terminal file interface (oqs.md). It has no code;
// its test keeps every section citation in the repository pointing at a
// heading that exists.
package docs
