package props

import (
	stdjson "encoding/json"
	"unicode/utf8"

	"github.com/goccy/go-json"
)

// The streams decoder hands the modules properties that are already a
// valid, compact JSON object, so decoding them into a map through
// reflection (most of a module's time per event) does more than needed:
// parseCompact slices the members straight out of the object. It accepts
// only input it can prove gives what the generic decoder gives (no white
// space between members, keys without escapes, well-formed values) and
// reports false for anything else, which Parse then hands to the generic
// decoder, so odd input keeps its result and error messages.

// member is one name/value pair found by the scanner, as offsets.
type member struct{ k0, k1, v0, v1 int }

// spare is the room left in a parsed set for the derived properties a
// module adds, so setting them does not grow the map.
const spare = 4

// parseCompact parses a compact JSON object; ok is false when raw is not
// one (see above). The keys share one copy of raw and the values slice
// raw itself, which is never modified (the decoder gives every event its
// own buffer), so a set costs three allocations whatever its size.
func parseCompact(raw []byte) (p Props, ok bool) {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return nil, false
	}
	var stack [24]member
	ms, i := stack[:0], 1
	if raw[i] != '}' {
		for {
			m, next, ok := scanMember(raw, i)
			if !ok || next >= len(raw) {
				return nil, false
			}
			ms, i = append(ms, m), next
			if raw[i] != ',' {
				break
			}
			i++
		}
	}
	if i != len(raw)-1 {
		return nil, false // not '}' after a member, or bytes after the object
	}
	return build(raw, ms), true
}

// build makes the set from the scanned members. Members are stored in
// order and a null deletes, so a repeated name ends as the generic
// decoder leaves it: the last value wins, and null means absent.
func build(raw []byte, ms []member) Props {
	keys := string(raw)
	p := make(Props, len(ms)+spare)
	for _, m := range ms {
		k, v := keys[m.k0:m.k1], json.RawMessage(raw[m.v0:m.v1:m.v1])
		if string(v) == "null" {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return p
}

// scanMember reads `"name":value` at raw[i:] and returns the offset just
// after it.
func scanMember(raw []byte, i int) (m member, next int, ok bool) {
	if raw[i] != '"' {
		return m, 0, false
	}
	m.k0 = i + 1
	for i = m.k0; i < len(raw) && raw[i] != '"'; i++ {
		if c := raw[i]; c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			return m, 0, false // escaped or non-ASCII names: the generic decoder decides
		}
	}
	m.k1 = i
	if i+2 >= len(raw) || raw[i+1] != ':' {
		return m, 0, false
	}
	m.v0 = i + 2
	m.v1, ok = scanValue(raw, m.v0)
	return m, m.v1, ok
}

// scanValue returns the end of the JSON value starting at raw[i].
func scanValue(raw []byte, i int) (int, bool) {
	switch c := raw[i]; {
	case c == '"':
		return scanString(raw, i)
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(raw, i)
	case c == '{' || c == '[':
		return scanNested(raw, i)
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(raw)-i >= len(lit) && string(raw[i:i+len(lit)]) == lit {
			return i + len(lit), true
		}
	}
	return 0, false
}

// scanString returns the end of the string starting at raw[i], which must
// be well formed: valid escapes, no control characters, valid UTF-8.
func scanString(raw []byte, i int) (int, bool) {
	start, ascii := i+1, true
	for i = start; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			return i + 1, ascii || utf8.Valid(raw[start:i])
		case c < 0x20:
			return 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '\\':
			n := escapeLen(raw[i+1:])
			if n == 0 {
				return 0, false
			}
			i += n
		}
	}
	return 0, false
}

// escapeLen is the length of the escape after a backslash, 0 if invalid.
func escapeLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1
	case 'u':
		if len(b) < 5 {
			return 0
		}
		for _, h := range b[1:5] {
			if !isHex(h) {
				return 0
			}
		}
		return 5
	}
	return 0
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// scanNumber returns the end of the number starting at raw[i], which must
// follow the JSON grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func scanNumber(raw []byte, i int) (int, bool) {
	if raw[i] == '-' {
		i++
	}
	switch {
	case i < len(raw) && raw[i] == '0':
		i++
	case i < len(raw) && raw[i] >= '1' && raw[i] <= '9':
		i = digits(raw, i)
	default:
		return 0, false
	}
	if i < len(raw) && raw[i] == '.' {
		if j := digits(raw, i+1); j > i+1 {
			i = j
		} else {
			return 0, false
		}
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			i++
		}
		j := digits(raw, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

// digits returns the end of the run of digits at raw[i:].
func digits(raw []byte, i int) int {
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
		i++
	}
	return i
}

// scanNested returns the end of the object or array starting at raw[i].
// Nested values are rare in properties, so rather than parse them it
// finds the closing bracket and leaves the full check to json.Valid.
func scanNested(raw []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(raw); j++ {
		switch raw[j] {
		case '"':
			end, ok := scanString(raw, j)
			if !ok {
				return 0, false
			}
			j = end - 1
		case '{', '[':
			if depth++; depth > maxDepth {
				return 0, false
			}
		case '}', ']':
			if depth--; depth == 0 {
				return j + 1, stdjson.Valid(raw[i : j+1])
			}
		}
	}
	return 0, false
}

// maxDepth bounds the nesting the scanner takes; deeper values go to the
// generic decoder, which has limits of its own.
const maxDepth = 64
