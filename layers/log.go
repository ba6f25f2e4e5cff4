package layers

import (
	"errors"
	"sync"
)

// ErrTruncated means the changes asked for have already left the log.
var ErrTruncated = errors.New("layers: change log no longer holds the requested sequence")

// Log is the bounded, in-memory tail of the change stream: a ring of the
// most recent changes, numbered from 1. Writers never wait for readers;
// a reader that falls further behind than the ring holds gets ErrTruncated
// and must resynchronise from a snapshot.
type Log struct {
	mu   sync.RWMutex
	ring []Change
	mask uint64
	last uint64 // sequence of the newest change; 0 when empty
}

// NewLog returns a log holding at least size changes (rounded up to a power
// of two).
func NewLog(size int) *Log {
	n := 1
	for n < size {
		n <<= 1
	}
	return &Log{ring: make([]Change, n), mask: uint64(n - 1)}
}

// append numbers the changes in place and stores them.
func (l *Log) append(changes []Change) {
	l.mu.Lock()
	for i := range changes {
		l.last++
		changes[i].Seq = l.last
		l.ring[l.last&l.mask] = changes[i]
	}
	l.mu.Unlock()
}

// Last returns the sequence of the newest change (0 when none yet).
func (l *Log) Last() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.last
}

// Oldest returns the oldest sequence the log still holds.
func (l *Log) Oldest() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.oldest()
}

func (l *Log) oldest() uint64 {
	if size := uint64(len(l.ring)); l.last >= size {
		return l.last - size + 1
	}
	return 1
}

// Capacity is the number of changes the log holds.
func (l *Log) Capacity() int { return len(l.ring) }

// Read appends to dst the changes with sequence from .. from+max-1 that
// exist, oldest first. It returns ErrTruncated if change from has been
// overwritten already.
func (l *Log) Read(dst []Change, from uint64, max int) ([]Change, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if from < l.oldest() {
		return dst, ErrTruncated
	}
	for seq := from; seq <= l.last && max > 0; seq++ {
		dst = append(dst, l.ring[seq&l.mask])
		max--
	}
	return dst, nil
}
