package replaytest

import (
	"context"
	"sync"
	"time"

	"github.com/danang-ioc/ioc/replay"
)

// FakeClock is a replay.Clock that moves only when Advance is called.
type FakeClock struct {
	mu      sync.Mutex
	cond    *sync.Cond
	now     time.Time
	waiters []*fakeTimer
	created int
}

var _ replay.Clock = (*FakeClock)(nil)

// NewFakeClock returns a clock standing at t.
func NewFakeClock(t time.Time) *FakeClock {
	c := &FakeClock{now: t}
	c.cond = sync.NewCond(&c.mu)
	return c
}

type fakeTimer struct {
	c    *FakeClock
	at   time.Time
	ch   chan time.Time
	done bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	t.c.remove(t)
	return true
}

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer firing when the clock reaches now+d.
func (c *FakeClock) NewTimer(d time.Duration) replay.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.created++
	defer c.cond.Broadcast()
	t := &fakeTimer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.done = true
		t.ch <- c.now
		return t
	}
	c.waiters = append(c.waiters, t)
	c.cond.Broadcast()
	return t
}

func (c *FakeClock) remove(t *fakeTimer) {
	for i, w := range c.waiters {
		if w == t {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			break
		}
	}
	c.cond.Broadcast()
}

// Advance moves the clock by d and fires the timers that are due.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, t := range c.waiters {
		if t.at.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.done = true
		t.ch <- c.now
	}
	clear(c.waiters[len(kept):])
	c.waiters = kept
	c.cond.Broadcast()
}

// Waiters returns the number of pending timers.
func (c *FakeClock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// BlockUntil waits until at least n timers are pending, or ctx ends.
func (c *FakeClock) BlockUntil(ctx context.Context, n int) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.waiters) < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.cond.Wait()
	}
	return nil
}

// Created returns how many timers were ever created. A test that changes
// something and waits for Created to grow knows the code under test has
// finished reacting and is about to wait on the clock again.
func (c *FakeClock) Created() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.created
}

// WaitCreated waits until at least n timers were ever created, or ctx ends.
func (c *FakeClock) WaitCreated(ctx context.Context, n int) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.created < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.cond.Wait()
	}
	return nil
}
