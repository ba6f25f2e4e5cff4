// Package auth authenticates the callers of the IOC and records what they
// did: a local user store with bcrypt password hashes, API tokens for
// machines, server-side browser sessions, login rate limiting, the HTTP
// middleware that turns every request's credentials into an
// access.Principal, and the audit log. docs/SECURITY.md is the reference.
//
// Secrets (passwords, tokens, session ids) are never logged, never put in an
// error and never stored in clear: passwords as bcrypt hashes, tokens and
// session ids as SHA-256 hashes.
package auth

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/danang-ioc/ioc/layers/access"
)

// FileName is the store's file under the data directory.
const FileName = "auth.db"

// Buckets of the store file.
var (
	bucketUsers  = []byte("users")
	bucketTokens = []byte("tokens")
	bucketAudit  = []byte("audit")
)

// ErrLocked is returned by Open when another process holds the store: bbolt
// lets one process open a file, so the admin commands work on a stopped
// server (or through the admin API of a running one).
var ErrLocked = errors.New("auth store is in use by another process (a running iocd?): stop it first")

// StoreOptions configure a Store.
type StoreOptions struct {
	// Areas resolves the area codes of scopes. Required for area scopes.
	Areas access.AreaSource
	// BcryptCost is the cost of new password hashes. Default 12.
	BcryptCost int
	// AuditRetention is how long audit records are kept. Default 400 days,
	// a year plus the time to notice a question about it.
	AuditRetention time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Store keeps users, tokens and audit records in one bbolt file. Tokens are
// also held in memory, so that checking one costs no disk access.
type Store struct {
	db   *bbolt.DB
	opts StoreOptions

	mu     sync.RWMutex
	tokens map[string]*tokenEntry // by token id

	dummyHash func() []byte // hashed at the store's cost on first use
}

// Open opens or creates the store at path (usually
// <data-dir>/auth.db) and loads its tokens.
func Open(path string, opts StoreOptions) (*Store, error) {
	if opts.BcryptCost == 0 {
		opts.BcryptCost = 12
	}
	if opts.AuditRetention <= 0 {
		opts.AuditRetention = 400 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("%s: %w", filepath.Clean(path), ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("auth store %s: %w", path, err)
	}
	s := &Store{db: db, opts: opts, tokens: map[string]*tokenEntry{}}
	s.dummyHash = sync.OnceValue(func() []byte {
		h, _ := bcrypt.GenerateFromPassword([]byte("the password of nobody"), opts.BcryptCost)
		return h
	})
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("auth store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) init() error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketUsers, bucketTokens, bucketAudit} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.loadTokens(); err != nil {
		return err
	}
	_, err = s.PruneAudit()
	return err
}

// Close writes the tokens' last-use times and closes the file.
func (s *Store) Close() error {
	flushErr := s.FlushLastUsed()
	return errors.Join(flushErr, s.db.Close())
}

func (s *Store) now() time.Time { return s.opts.Now().UTC() }

// resolve turns a stored scope spec into a scope.
func (s *Store) resolve(spec access.ScopeSpec) (*access.Scope, error) {
	if spec.IsZero() {
		return access.Unlimited(), nil
	}
	return spec.Resolve(s.opts.Areas)
}
