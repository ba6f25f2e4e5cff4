package ngsi

import (
	"container/list"
	"sync"

	"github.com/twpayne/go-geom"
)

// state is the last accepted state of an entity: what a partial update is
// merged into, and where an entity without a location (or one referring to
// it) is placed. States are immutable once built.
type state struct {
	id, typ, layer string
	geom           geom.T
	props          []byte // the published properties: {"type":T, attributes...}
}

// memory keeps the states of the most recently updated entities, at most
// capacity of them; the least recently used is forgotten first.
type memory struct {
	mu       sync.Mutex
	capacity int
	order    list.List // of *state, most recent first
	byID     map[string]*list.Element
	onEvict  func()
	onSize   func(int)
}

func newMemory(capacity int, onEvict func(), onSize func(int)) *memory {
	return &memory{capacity: capacity, byID: make(map[string]*list.Element), onEvict: onEvict, onSize: onSize}
}

// get returns the entity's last state, or nil.
func (m *memory) get(id string) *state {
	m.mu.Lock()
	defer m.mu.Unlock()
	el := m.byID[id]
	if el == nil {
		return nil
	}
	m.order.MoveToFront(el)
	return el.Value.(*state)
}

// put stores states, replacing earlier ones of the same entities.
func (m *memory) put(states ...*state) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range states {
		if el := m.byID[s.id]; el != nil {
			el.Value = s
			m.order.MoveToFront(el)
			continue
		}
		m.byID[s.id] = m.order.PushFront(s)
		if m.order.Len() > m.capacity {
			old := m.order.Back()
			m.order.Remove(old)
			delete(m.byID, old.Value.(*state).id)
			m.onEvict()
		}
	}
	m.onSize(m.order.Len())
}

// forget drops entities that were deleted.
func (m *memory) forget(ids ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		if el := m.byID[id]; el != nil {
			m.order.Remove(el)
			delete(m.byID, id)
		}
	}
	m.onSize(m.order.Len())
}
