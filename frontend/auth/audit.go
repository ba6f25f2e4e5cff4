package auth

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// Record is one audit record: who did what to what, from where, and how it
// ended. It never holds a secret.
type Record struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`  // "user:alice", "token:3f9a…", "cli:root", "anonymous"
	Action  string    `json:"action"` // one of the Action* constants
	Target  string    `json:"target,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	Remote  string    `json:"remote,omitempty"` // client address, without port
	Outcome string    `json:"outcome"`          // ok, failed, denied
}

// The audited actions. Incident, zone and configuration actions are
// recorded by their packages through the same Audit interface.
const (
	ActionLogin        = "login"
	ActionLoginFailed  = "login_failed"
	ActionLoginBlocked = "login_blocked" // refused by the rate limiter
	ActionLogout       = "logout"
	ActionAuthFailed   = "auth_failed" // a bad, expired or revoked token or session
	ActionDenied       = "access_denied"
	ActionTokenCreated = "token_created"
	ActionTokenRevoked = "token_revoked"
	ActionUserCreated  = "user_created"
	ActionUserChanged  = "user_changed"
)

// Outcomes of a Record.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
	OutcomeDenied = "denied"
)

// Audit is where audit records go. Record must not block for long and
// must not fail the action it records: an implementation counts and logs
// its own failures.
type Audit interface {
	Record(ctx context.Context, r Record)
}

// AuditQuery selects audit records: [From, To), and when set, one actor and
// one action. Limit 0 means DefaultAuditLimit.
type AuditQuery struct {
	From, To time.Time
	Actor    string
	Action   string
	Limit    int
}

// Audit query limits.
const (
	DefaultAuditLimit = 1000
	MaxAuditLimit     = 10000
)

// auditSeq orders records written in the same nanosecond.
var auditSeq atomic.Uint64

// auditKey orders records by time: 8 bytes of big-endian Unix nanoseconds
// (times before 1970 are not audited), then 8 of a sequence number.
func auditKey(t time.Time) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(max(0, t.UnixNano())))
	binary.BigEndian.PutUint64(k[8:], auditSeq.Add(1))
	return k
}

// AppendAudit writes one record (At set to now when zero). db.Batch joins
// concurrent writers into one transaction and fsync.
func (s *Store) AppendAudit(r Record) error {
	if r.At.IsZero() {
		r.At = s.now()
	}
	r.At = r.At.UTC()
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	key := auditKey(r.At)
	err = s.db.Batch(func(tx *bbolt.Tx) error { return tx.Bucket(bucketAudit).Put(key, data) })
	if err != nil {
		return fmt.Errorf("audit %s: %w", r.Action, err)
	}
	return nil
}

// QueryAudit returns the records of q, oldest first.
func (s *Store) QueryAudit(q AuditQuery) ([]Record, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	limit = min(limit, MaxAuditLimit)
	from := make([]byte, 8)
	binary.BigEndian.PutUint64(from, uint64(max(0, q.From.UnixNano())))
	var to []byte
	if !q.To.IsZero() {
		to = make([]byte, 8)
		binary.BigEndian.PutUint64(to, uint64(max(0, q.To.UnixNano())))
	}
	out := []Record{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Seek(from); k != nil && len(out) < limit; k, v = c.Next() {
			if to != nil && bytes.Compare(k[:8], to) >= 0 {
				break
			}
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("audit record %x: %w", k, err)
			}
			if (q.Actor == "" || r.Actor == q.Actor) && (q.Action == "" || r.Action == q.Action) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// PruneAudit deletes the records older than the retention and returns how
// many it deleted.
func (s *Store) PruneAudit() (int, error) {
	cut := make([]byte, 8)
	binary.BigEndian.PutUint64(cut, uint64(max(0, s.now().Add(-s.opts.AuditRetention).UnixNano())))
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		var old [][]byte // deleting under a moving cursor can skip keys
		c := b.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], cut) < 0; k, _ = c.Next() {
			old = append(old, k)
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
