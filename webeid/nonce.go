package webeid

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"time"
)

// DefaultNonceLifetime is how long an issued nonce stays usable: long
// enough for a PIN prompt, short enough that a collected token goes stale.
const DefaultNonceLifetime = 5 * time.Minute

// maxOutstandingNonces bounds the memory a flood of nonce requests can take;
// past it the oldest nonces are dropped (their logins must start again).
const maxOutstandingNonces = 100_000

// MemoryNonces is an in-memory NonceStore for a single server process.
// Servers behind a load balancer need a shared store (a database table or a
// cache with atomic delete) implementing NonceStore.
type MemoryNonces struct {
	mu       sync.Mutex
	lifetime time.Duration
	now      func() time.Time
	issued   map[string]time.Time // nonce -> expiry
	order    []string             // issue order, for eviction
}

// NewMemoryNonces returns a store whose nonces expire after lifetime
// (0: DefaultNonceLifetime).
func NewMemoryNonces(lifetime time.Duration) *MemoryNonces {
	if lifetime <= 0 {
		lifetime = DefaultNonceLifetime
	}
	return &MemoryNonces{lifetime: lifetime, now: time.Now, issued: map[string]time.Time{}}
}

// SetClock replaces the store's clock (tests, or a server's own clock).
func (m *MemoryNonces) SetClock(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}

// Issue returns 32 random bytes in standard base64 (44 characters).
func (m *MemoryNonces) Issue(context.Context) (string, error) {
	var b [MinNonceBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("webeid: nonce: %w", err)
	}
	n := base64.StdEncoding.EncodeToString(b[:])
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	m.issued[n] = now.Add(m.lifetime)
	m.order = append(m.order, n)
	return n, nil
}

// Consume takes nonce back: once only, and only before it expires.
func (m *MemoryNonces) Consume(_ context.Context, nonce string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.issued[nonce]
	if !ok {
		return ErrNonceUnknown
	}
	delete(m.issued, nonce)
	if !m.now().Before(exp) {
		return ErrNonceExpired
	}
	return nil
}

// sweep drops expired nonces, and the oldest ones past the bound.
func (m *MemoryNonces) sweep(now time.Time) {
	keep := m.order[:0]
	for _, n := range m.order {
		if exp, ok := m.issued[n]; ok && now.Before(exp) {
			keep = append(keep, n)
		} else {
			delete(m.issued, n)
		}
	}
	m.order = keep
	for len(m.order) >= maxOutstandingNonces {
		delete(m.issued, m.order[0])
		m.order = m.order[1:]
	}
}
