package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/danang-ioc/ioc/layers/access"
)

// A token is "ioc_" + a 16-hex-digit public id + "_" + 256 random bits in
// unpadded base64url: 64 characters. The id finds the record; the SHA-256
// of the whole token, compared in constant time, proves it. Only the hash
// is stored.
const (
	tokenPrefix    = "ioc_"
	tokenIDLen     = 16
	tokenSecretLen = 43 // base64url of 32 bytes
	tokenLen       = len(tokenPrefix) + tokenIDLen + 1 + tokenSecretLen
)

// Token is an API token as stored and listed; it never holds the secret.
type Token struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Roles    []access.Role    `json:"roles"`
	Scope    access.ScopeSpec `json:"scope"`
	Created  time.Time        `json:"created"`
	Expires  time.Time        `json:"expires,omitzero"`
	LastUsed time.Time        `json:"lastUsed,omitzero"`
	Revoked  time.Time        `json:"revoked,omitzero"`
	Hash     []byte           `json:"hash,omitempty"`
}

// NewToken is what creating a token takes; TTL 0 means no expiry.
type NewToken struct {
	Name  string
	Roles []access.Role
	Scope access.ScopeSpec
	TTL   time.Duration
}

// tokenEntry is a token held in memory with its resolved principal.
type tokenEntry struct {
	tok       Token
	principal *access.Principal
	lastUsed  atomic.Int64 // unix nanoseconds; written to disk by FlushLastUsed
	flushed   int64
}

// Token check failures; each is a metric reason.
var (
	ErrNoToken      = errors.New("no such token")
	errTokenFormat  = errors.New("malformed token")
	errTokenExpired = errors.New("token expired")
	errTokenRevoked = errors.New("token revoked")
)

// CreateToken makes a token and returns its secret, which is shown once and
// never again.
func (s *Store) CreateToken(nt NewToken) (secret string, tok Token, err error) {
	if !validName(nt.Name) {
		return "", Token{}, fmt.Errorf("token name %q: want 1-64 of a-z 0-9 . _ -, starting with a letter or digit", nt.Name)
	}
	if len(nt.Roles) == 0 {
		return "", Token{}, fmt.Errorf("token %s: no role given", nt.Name)
	}
	if slices.Contains(nt.Roles, access.RoleIngest) && len(nt.Scope.Layers) == 0 {
		return "", Token{}, fmt.Errorf("token %s: an ingest token must name the layers it writes", nt.Name)
	}
	sc, err := s.resolve(nt.Scope)
	if err != nil {
		return "", Token{}, fmt.Errorf("token %s: %w", nt.Name, err)
	}
	id, secret := newTokenSecret()
	sum := sha256.Sum256([]byte(secret))
	now := s.now()
	tok = Token{ID: id, Name: nt.Name, Roles: nt.Roles, Scope: nt.Scope, Created: now, Hash: sum[:]}
	if nt.TTL > 0 {
		tok.Expires = now.Add(nt.TTL)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error { return putJSON(tx.Bucket(bucketTokens), id, tok) })
	if err != nil {
		return "", Token{}, fmt.Errorf("token %s: %w", nt.Name, err)
	}
	s.mu.Lock()
	s.tokens[id] = s.entry(tok, sc)
	s.mu.Unlock()
	return secret, tok, nil
}

func newTokenSecret() (id, secret string) {
	var raw [8 + 32]byte
	_, _ = rand.Read(raw[:]) // crypto/rand never fails on supported platforms
	id = hex.EncodeToString(raw[:8])
	return id, tokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(raw[8:])
}

func (s *Store) entry(tok Token, sc *access.Scope) *tokenEntry {
	e := &tokenEntry{tok: tok, principal: access.NewPrincipal(access.KindToken, tok.ID, tok.Name, tok.Roles, sc)}
	if !tok.LastUsed.IsZero() {
		e.lastUsed.Store(tok.LastUsed.UnixNano())
		e.flushed = tok.LastUsed.UnixNano()
	}
	return e
}

// RevokeToken revokes a token for good; it stays listed, marked revoked.
func (s *Store) RevokeToken(id string) (Token, error) {
	var tok Token
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if err := getJSON(b, id, &tok, ErrNoToken); err != nil {
			return err
		}
		if tok.Revoked.IsZero() {
			tok.Revoked = s.now()
		}
		return putJSON(b, id, tok)
	})
	if err != nil {
		return Token{}, fmt.Errorf("revoke token: %w", err)
	}
	s.mu.Lock()
	if e := s.tokens[id]; e != nil {
		e.tok.Revoked = tok.Revoked
	}
	s.mu.Unlock()
	return tok, nil
}

// Tokens lists every token, oldest first, without hashes.
func (s *Store) Tokens() []Token {
	s.mu.RLock()
	out := make([]Token, 0, len(s.tokens))
	for _, e := range s.tokens {
		t := e.tok
		t.Hash = nil
		if n := e.lastUsed.Load(); n != 0 {
			t.LastUsed = time.Unix(0, n).UTC()
		}
		out = append(out, t)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Token) int { return a.Created.Compare(b.Created) })
	return out
}

// authenticateToken checks a presented token and returns its principal.
// The error says why it was refused, without quoting it.
func (s *Store) authenticateToken(secret string) (*access.Principal, error) {
	if len(secret) != tokenLen || !strings.HasPrefix(secret, tokenPrefix) || secret[len(tokenPrefix)+tokenIDLen] != '_' {
		return nil, errTokenFormat
	}
	id := secret[len(tokenPrefix) : len(tokenPrefix)+tokenIDLen]
	s.mu.RLock()
	e := s.tokens[id]
	var tok Token
	if e != nil {
		tok = e.tok
	}
	s.mu.RUnlock()
	sum := sha256.Sum256([]byte(secret))
	if e == nil || subtle.ConstantTimeCompare(sum[:], tok.Hash) != 1 {
		return nil, ErrNoToken
	}
	now := s.now()
	switch {
	case !tok.Revoked.IsZero():
		return nil, errTokenRevoked
	case !tok.Expires.IsZero() && !now.Before(tok.Expires):
		return nil, errTokenExpired
	}
	e.lastUsed.Store(now.UnixNano())
	return e.principal, nil
}

// loadTokens reads every token into memory, resolving its scope. A token
// whose scope no longer resolves (its area was removed from the area files)
// is an error: starting with it would either widen or silently drop it.
func (s *Store) loadTokens() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			var tok Token
			if err := json.Unmarshal(v, &tok); err != nil {
				return fmt.Errorf("token %s: %w", k, err)
			}
			sc, err := s.resolve(tok.Scope)
			if err != nil {
				return fmt.Errorf("token %s (%s): %w", tok.ID, tok.Name, err)
			}
			s.tokens[tok.ID] = s.entry(tok, sc)
			return nil
		})
	})
}

// FlushLastUsed writes the last-use times that changed since the last
// flush: once a minute from Auth.Run and on Close, never per request.
func (s *Store) FlushLastUsed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var dirty []*tokenEntry
	for _, e := range s.tokens {
		if n := e.lastUsed.Load(); n != e.flushed {
			dirty = append(dirty, e)
		}
	}
	if len(dirty) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		for _, e := range dirty {
			n := e.lastUsed.Load()
			e.tok.LastUsed = time.Unix(0, n).UTC()
			if err := putJSON(b, e.tok.ID, e.tok); err != nil {
				return err
			}
			e.flushed = n
		}
		return nil
	})
}
