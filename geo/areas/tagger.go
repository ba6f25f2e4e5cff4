package areas

import (
	"bytes"
	"encoding/json"

	"github.com/danang-ioc/ioc/layers"
)

// Tagger adds the administrative areas of an event's geometry to its
// properties; it satisfies streams.Tagger. It locates the geometry with
// Set.LocateGeometry and adds the members
//
//	"district", "districtCode", "ward", "wardCode"
//
// leaving out empty ones (a position at sea gets none). The sender's own
// properties win: if the event already carries "district" or
// "districtCode", neither district member is added, so a sender's district
// is never mixed with a computed code; "ward" and "wardCode" likewise.
// Because of that rule, an event built from an earlier, already tagged
// state keeps the earlier tags even if the entity has moved.
//
// The ward may be a nearest-centre guess (Location.WardApprox); the tags do
// not say so, so displays should treat a ward tag as "probably".
//
// Tag never modifies the event's existing Properties bytes (they may be
// shared); it stores a new compact JSON object. It is safe for concurrent
// use.
type Tagger struct{ set *Set }

// NewTagger returns a Tagger for s; a nil s tags nothing.
func NewTagger(s *Set) *Tagger { return &Tagger{set: s} }

// Tag adds the area properties to ev; see Tagger.
func (t *Tagger) Tag(ev *layers.Event) {
	if t == nil || t.set == nil || ev.Geometry == nil {
		return
	}
	x, y, ok := representative(ev.Geometry)
	if !ok {
		return
	}
	d, w, _ := t.set.locate(x, y)
	var dTag, wTag []byte
	if d >= 0 {
		dTag = t.set.districts[d].tag
	}
	if w >= 0 {
		wTag = t.set.wards[w].tag
	}
	if len(dTag) == 0 && len(wTag) == 0 {
		return
	}
	if props, ok := addMembers(ev.Properties, dTag, wTag); ok {
		ev.Properties = props
	}
}

// Which area members an object already has.
const (
	hasDistrict = 1 << iota
	hasWard
)

// addMembers returns obj (a JSON object, or empty or null for {}) with the
// district and ward members appended, skipping a pair the object already
// has. ok is false when obj is not an object or nothing was added.
func addMembers(obj json.RawMessage, dTag, wTag []byte) (json.RawMessage, bool) {
	body := bytes.TrimSpace(obj)
	if len(body) == 0 || string(body) == "null" {
		body = []byte("{}")
	}
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return nil, false
	}
	has, ok := memberFlags(body)
	if !ok {
		return nil, false
	}
	if has&hasDistrict != 0 {
		dTag = nil
	}
	if has&hasWard != 0 {
		wTag = nil
	}
	if len(dTag) == 0 && len(wTag) == 0 {
		return nil, false
	}
	open := bytes.TrimRight(body[:len(body)-1], " \t\r\n")
	empty := len(open) == 1 // just "{"
	out := make([]byte, 0, len(open)+len(dTag)+len(wTag)+3)
	out = append(out, open...)
	for _, tag := range [2][]byte{dTag, wTag} {
		if len(tag) == 0 {
			continue
		}
		if !empty {
			out = append(out, ',')
		}
		out = append(out, tag...)
		empty = false
	}
	return append(out, '}'), true
}

// memberFlags scans the top-level member names of a JSON object without
// decoding it. ok is false if the scan finds the object malformed.
func memberFlags(obj []byte) (has int, ok bool) {
	depth, expectKey := 0, false
	for i := 0; i < len(obj); i++ {
		switch c := obj[i]; c {
		case '"':
			end, escaped := stringEnd(obj, i)
			if end < 0 {
				return 0, false
			}
			if depth == 1 && expectKey {
				has |= keyFlag(obj[i:end+1], escaped)
				expectKey = false
			}
			i = end
		case '{', '[':
			depth++
			expectKey = c == '{' && depth == 1
		case '}', ']':
			depth--
			if depth < 0 {
				return 0, false
			}
		case ',':
			expectKey = depth == 1
		}
	}
	return has, depth == 0
}

// stringEnd returns the index of the quote closing the string that opens
// at start, or -1, and whether the string has escapes.
func stringEnd(b []byte, start int) (int, bool) {
	escaped := false
	for i := start + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i, escaped
		}
	}
	return -1, escaped
}

// keyFlag classifies a quoted member name.
func keyFlag(quoted []byte, escaped bool) int {
	name := quoted[1 : len(quoted)-1]
	if escaped {
		var s string
		if json.Unmarshal(quoted, &s) != nil {
			return 0
		}
		name = []byte(s)
	}
	switch string(name) { // compared without allocating
	case "district", "districtCode":
		return hasDistrict
	case "ward", "wardCode":
		return hasWard
	}
	return 0
}
