package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/danang-ioc/ioc/layers/access"
)

// Session limits and their errors.
var (
	errNoSession      = errors.New("unknown session")
	errSessionExpired = errors.New("session expired")
	errTooManySession = errors.New("too many open sessions")
)

// sessionIDLen is the length of a session id: 32 random bytes in unpadded
// base64url.
const sessionIDLen = 43

// session is one browser login, held in memory only: a restart logs every
// browser out, which is the safe direction.
type session struct {
	principal *access.Principal
	user      string
	created   time.Time
	last      time.Time
}

// sessions holds the open sessions keyed by the SHA-256 of their id, so
// that the table itself holds nothing a cookie could be rebuilt from.
type sessions struct {
	idle, absolute time.Duration
	max, perUser   int

	mu   sync.Mutex
	byID map[[32]byte]*session
}

func newSessions(idle, absolute time.Duration, max, perUser int) *sessions {
	return &sessions{idle: idle, absolute: absolute, max: max, perUser: perUser, byID: map[[32]byte]*session{}}
}

// open starts a session for a user and returns its id. The user's oldest
// session is closed when it holds perUser already.
func (ss *sessions) open(p *access.Principal, now time.Time) (string, error) {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.byID) >= ss.max {
		ss.sweepLocked(now)
		if len(ss.byID) >= ss.max {
			return "", errTooManySession
		}
	}
	ss.capUserLocked(p.ID)
	ss.byID[sha256.Sum256([]byte(id))] = &session{principal: p, user: p.ID, created: now, last: now}
	return id, nil
}

// capUserLocked closes a user's oldest sessions until one more fits.
func (ss *sessions) capUserLocked(user string) {
	for {
		var oldestKey [32]byte
		var oldest *session
		n := 0
		for k, s := range ss.byID {
			if s.user != user {
				continue
			}
			n++
			if oldest == nil || s.created.Before(oldest.created) {
				oldestKey, oldest = k, s
			}
		}
		if n < ss.perUser {
			return
		}
		delete(ss.byID, oldestKey)
	}
}

// check returns the principal of a live session and marks it used.
func (ss *sessions) check(id string, now time.Time) (*access.Principal, error) {
	if len(id) != sessionIDLen {
		return nil, errNoSession
	}
	key := sha256.Sum256([]byte(id))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.byID[key]
	if s == nil {
		return nil, errNoSession
	}
	if ss.expired(s, now) {
		delete(ss.byID, key)
		return nil, errSessionExpired
	}
	s.last = now
	return s.principal, nil
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.last) >= ss.idle || now.Sub(s.created) >= ss.absolute
}

// close ends a session; it reports whether there was one.
func (ss *sessions) close(id string) bool {
	key := sha256.Sum256([]byte(id))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	_, ok := ss.byID[key]
	delete(ss.byID, key)
	return ok
}

// closeUser ends every session of a user (disabled, password changed).
func (ss *sessions) closeUser(user string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, s := range ss.byID {
		if s.user == user {
			delete(ss.byID, k)
		}
	}
}

func (ss *sessions) sweep(now time.Time) {
	ss.mu.Lock()
	ss.sweepLocked(now)
	ss.mu.Unlock()
}

func (ss *sessions) sweepLocked(now time.Time) {
	for k, s := range ss.byID {
		if ss.expired(s, now) {
			delete(ss.byID, k)
		}
	}
}

func (ss *sessions) count() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.byID)
}
