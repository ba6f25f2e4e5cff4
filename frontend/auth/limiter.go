package auth

import (
	"sync"
	"time"
)

// limiter slows down password guessing. Each key (a user name, a client
// address) may fail freely a few times; after that every failure doubles
// the time the key must wait before its next attempt, up to a cap. A
// success clears the user key only: an attacker who owns one account must
// not clear the counter of the address they guess from.
type limiter struct {
	free    int           // failures allowed without waiting
	base    time.Duration // wait after the first counted failure
	ceiling time.Duration // longest wait
	max     int           // keys held; bounded against floods of names

	mu   sync.Mutex
	keys map[string]*attempts
}

type attempts struct {
	failures int
	until    time.Time // no attempt before this
	last     time.Time
	reported bool // a blocked attempt was reported since the last failure
}

func newLimiter(free int, base, ceiling time.Duration, max int) *limiter {
	return &limiter{free: free, base: base, ceiling: ceiling, max: max, keys: map[string]*attempts{}}
}

// wait returns how long the key must still wait (0: it may try now), and
// whether this is the first blocked attempt since the key's last failure:
// only that one is worth an audit record, the rest are only counted.
func (l *limiter) wait(key string, now time.Time) (d time.Duration, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.keys[key]
	if a == nil || !now.Before(a.until) {
		return 0, false
	}
	first, a.reported = !a.reported, true
	return a.until.Sub(now), first
}

// fail counts a failed attempt for the key.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.keys[key]
	if a == nil {
		l.makeRoomLocked(now)
		a = &attempts{}
		l.keys[key] = a
	}
	a.failures++
	a.last, a.reported = now, false
	if over := a.failures - l.free; over > 0 {
		d := l.ceiling
		if over < 32 && l.base<<(over-1) < l.ceiling {
			d = l.base << (over - 1)
		}
		a.until = now.Add(d)
	}
}

// reset forgets the key's failures.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	delete(l.keys, key)
	l.mu.Unlock()
}

// makeRoomLocked drops keys idle for longer than the ceiling; when the
// table is still full it drops an arbitrary key, so that a flood of new
// names never grows memory (at worst it forgets some counters early).
func (l *limiter) makeRoomLocked(now time.Time) {
	if len(l.keys) < l.max {
		return
	}
	for k, a := range l.keys {
		if now.Sub(a.last) > l.ceiling && !now.Before(a.until) {
			delete(l.keys, k)
		}
	}
	for k := range l.keys {
		if len(l.keys) < l.max {
			break
		}
		delete(l.keys, k)
	}
}

// auditThrottle bounds the audit records a client address can cause
// without valid credentials (bad tokens, denied requests): at most perMin
// a minute each, the rest only counted, so that a flood cannot fill the
// disk through the audit log.
type auditThrottle struct {
	perMin int
	max    int

	mu      sync.Mutex
	windows map[string]*auditWindow
}

type auditWindow struct {
	start time.Time
	n     int
}

func newAuditThrottle(perMin, max int) *auditThrottle {
	return &auditThrottle{perMin: perMin, max: max, windows: map[string]*auditWindow{}}
}

// allow reports whether one more record for remote may be written now.
func (t *auditThrottle) allow(remote string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.windows[remote]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if w == nil && len(t.windows) >= t.max {
			clear(t.windows) // forgetting early only lets a few more records through
		}
		w = &auditWindow{start: now}
		t.windows[remote] = w
	}
	w.n++
	return w.n <= t.perMin
}
