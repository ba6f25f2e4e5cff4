package layers

import "time"

// Kind says what a change did.
type Kind uint8

// The kinds of change.
const (
	// KindUpsert: the entity appeared, moved or changed (Old nil when new).
	KindUpsert Kind = iota + 1
	// KindDelete: the entity was removed; New is nil.
	KindDelete
	// KindStale: the entity stopped reporting; New is Old marked stale.
	KindStale
	// KindLate: an accepted event older than the entity's state (or than
	// its deletion). It did not change the layer: Old is the kept state, New
	// the late one (nil for a late delete). History keeps it; the live map
	// ignores it.
	KindLate
)

var kindNames = [...]string{"", "upsert", "delete", "stale", "late"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Change is the one record every consumer of a layer reads.
type Change struct {
	Seq  uint64    // monotonic per server run, paired with the store's epoch
	At   time.Time // server time of the change
	Kind Kind
	Old  *Feature // state before; nil if the entity did not exist
	New  *Feature // state after; nil for deletes
}

// Applied reports whether the change altered live state.
func (c *Change) Applied() bool { return c.Kind != KindLate }

// Layer and ID name the entity the change is about.
func (c *Change) Layer() string { return c.feature().Layer }
func (c *Change) ID() string    { return c.feature().ID }

func (c *Change) feature() *Feature {
	if c.New != nil {
		return c.New
	}
	return c.Old
}
