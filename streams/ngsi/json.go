package ngsi

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"unicode/utf8"
)

// This file holds a strict JSON validator and fast iterators over JSON that
// has passed it. Attribute values are copied verbatim into the properties
// the layers embed in outgoing GeoJSON, so every byte of a body is checked
// against RFC 8259 (including UTF-8 and lone surrogate escapes) once, up
// front; the decoders then walk the validated bytes without re-checking.

// maxDepth bounds nesting, so that a body of '[' cannot exhaust the stack.
const maxDepth = 128

// syntaxError is a JSON problem at a byte offset of the body.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte offset %d: %s", e.off, e.msg)
}

type validator struct {
	buf   []byte
	pos   int
	depth int
}

// validate checks that buf holds exactly one JSON value, optionally
// surrounded by whitespace and preceded by a UTF-8 byte order mark.
func validate(buf []byte) *syntaxError {
	v := validator{buf: buf}
	if bytes.HasPrefix(buf, []byte("\xef\xbb\xbf")) {
		v.pos = 3
	}
	v.ws()
	if v.pos == len(buf) {
		return &syntaxError{off: v.pos, msg: "the body is empty"}
	}
	if err := v.value(); err != nil {
		return err
	}
	v.ws()
	if v.pos < len(buf) {
		return v.unexpected("the end of the body")
	}
	return nil
}

func (v *validator) errorf(format string, args ...any) *syntaxError {
	return &syntaxError{off: v.pos, msg: fmt.Sprintf(format, args...)}
}

func (v *validator) unexpected(want string) *syntaxError {
	if v.pos >= len(v.buf) {
		return v.errorf("unexpected end of input, want %s", want)
	}
	c := v.buf[v.pos]
	if c >= 0x20 && c < 0x7f {
		return v.errorf("unexpected character %q, want %s", rune(c), want)
	}
	return v.errorf("unexpected byte 0x%02x, want %s", c, want)
}

func (v *validator) ws() {
	for v.pos < len(v.buf) {
		switch v.buf[v.pos] {
		case ' ', '\t', '\n', '\r':
			v.pos++
		default:
			return
		}
	}
}

func (v *validator) value() *syntaxError {
	if v.pos >= len(v.buf) {
		return v.unexpected("a value")
	}
	switch c := v.buf[v.pos]; {
	case c == '{':
		return v.object()
	case c == '[':
		return v.array()
	case c == '"':
		return v.str()
	case c == 't':
		return v.literal("true")
	case c == 'f':
		return v.literal("false")
	case c == 'n':
		return v.literal("null")
	case c == '-' || isDigit(c):
		return v.number()
	}
	return v.unexpected("a value")
}

func (v *validator) enter() *syntaxError {
	if v.depth++; v.depth > maxDepth {
		return v.errorf("nesting deeper than %d levels", maxDepth)
	}
	v.pos++
	v.ws()
	return nil
}

func (v *validator) object() *syntaxError {
	if err := v.enter(); err != nil {
		return err
	}
	if v.pos < len(v.buf) && v.buf[v.pos] == '}' {
		v.pos++
		v.depth--
		return nil
	}
	for {
		if v.pos >= len(v.buf) || v.buf[v.pos] != '"' {
			return v.unexpected("a quoted member name")
		}
		if err := v.str(); err != nil {
			return err
		}
		v.ws()
		if v.pos >= len(v.buf) || v.buf[v.pos] != ':' {
			return v.unexpected("':' after a member name")
		}
		v.pos++
		v.ws()
		if err := v.value(); err != nil {
			return err
		}
		if done, err := v.next('}'); done || err != nil {
			return err
		}
	}
}

// next steps over the ',' between elements, or the closing bracket.
func (v *validator) next(closing byte) (bool, *syntaxError) {
	v.ws()
	if v.pos < len(v.buf) {
		switch v.buf[v.pos] {
		case ',':
			v.pos++
			v.ws()
			return false, nil
		case closing:
			v.pos++
			v.depth--
			return true, nil
		}
	}
	return false, v.unexpected(fmt.Sprintf("',' or '%c'", closing))
}

func (v *validator) array() *syntaxError {
	if err := v.enter(); err != nil {
		return err
	}
	if v.pos < len(v.buf) && v.buf[v.pos] == ']' {
		v.pos++
		v.depth--
		return nil
	}
	for {
		if err := v.value(); err != nil {
			return err
		}
		if done, err := v.next(']'); done || err != nil {
			return err
		}
	}
}

// plainByte marks the bytes a string may hold as they are: printable ASCII
// other than '"' and '\\'.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (v *validator) str() *syntaxError {
	i := v.pos + 1
	for i < len(v.buf) {
		c := v.buf[i]
		if plainByte[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			v.pos = i + 1
			return nil
		case c == '\\':
			v.pos = i
			n, err := v.escape()
			if err != nil {
				return err
			}
			i = n
		case c < 0x20:
			v.pos = i
			return v.errorf("control character 0x%02x in a string: escape it", c)
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(v.buf[i:])
			if r == utf8.RuneError && size == 1 {
				v.pos = i
				return v.errorf("invalid UTF-8 (byte 0x%02x): text must be UTF-8", c)
			}
			i += size
		}
	}
	v.pos = i
	return v.unexpected("'\"' closing the string")
}

// escape checks the escape at v.pos and returns the offset after it.
func (v *validator) escape() (int, *syntaxError) {
	i := v.pos + 1
	if i >= len(v.buf) {
		return 0, v.unexpected("an escape")
	}
	switch v.buf[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1, nil
	case 'u':
	default:
		return 0, v.errorf("invalid escape %q", v.buf[v.pos:i+1])
	}
	r, ok := hex4(v.buf, i+1)
	if !ok {
		return 0, v.errorf("invalid \\u escape: want 4 hex digits")
	}
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return 0, v.errorf("lone UTF-16 surrogate escape %s: text must be valid Unicode", v.buf[v.pos:i+5])
	case r >= 0xD800 && r <= 0xDBFF:
		if j := i + 5; j+1 < len(v.buf) && v.buf[j] == '\\' && v.buf[j+1] == 'u' {
			if lo, ok := hex4(v.buf, j+2); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return j + 6, nil
			}
		}
		return 0, v.errorf("lone UTF-16 surrogate escape %s: text must be valid Unicode", v.buf[v.pos:i+5])
	}
	return i + 5, nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (v *validator) digits() int {
	start := v.pos
	for v.pos < len(v.buf) && isDigit(v.buf[v.pos]) {
		v.pos++
	}
	return v.pos - start
}

func (v *validator) number() *syntaxError {
	if v.buf[v.pos] == '-' {
		v.pos++
	}
	switch {
	case v.pos < len(v.buf) && v.buf[v.pos] == '0':
		v.pos++
	case v.digits() == 0:
		return v.unexpected("a digit")
	}
	if v.pos < len(v.buf) && v.buf[v.pos] == '.' {
		v.pos++
		if v.digits() == 0 {
			return v.unexpected("a digit after '.'")
		}
	}
	if v.pos < len(v.buf) && (v.buf[v.pos] == 'e' || v.buf[v.pos] == 'E') {
		v.pos++
		if v.pos < len(v.buf) && (v.buf[v.pos] == '+' || v.buf[v.pos] == '-') {
			v.pos++
		}
		if v.digits() == 0 {
			return v.unexpected("a digit in the exponent")
		}
	}
	return nil
}

func (v *validator) literal(word string) *syntaxError {
	if !bytes.HasPrefix(v.buf[v.pos:], []byte(word)) {
		return v.unexpected("a value")
	}
	v.pos += len(word)
	return nil
}

// The functions below walk JSON that passed validate: they never fail and
// never look past the value they are given.

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset after the string starting at b[i]. Most
// strings are short names, for which a plain loop beats IndexByte.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		if plainByte[b[i]] {
			continue
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i++ // the escaped character (or the 'u' of \uXXXX) is no quote
		}
	}
	return len(b)
}

// skipValue returns the offset after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// members iterates over the members of a validated JSON object. The
// buffer may go on after the object: iteration stops at its '}'.
type members struct {
	b []byte
	i int
}

func newMembers(obj []byte) members { return members{b: obj, i: 1} }

// nextKey returns the next member's name (as its quoted literal) and the
// offset of its value; the caller then sets m.i to the offset after the
// value. At the end of the object it returns false and leaves m.i at the
// closing '}'.
func (m *members) nextKey() (key []byte, start int, ok bool) {
	i := skipWS(m.b, m.i)
	if i < len(m.b) && m.b[i] == ',' {
		i = skipWS(m.b, i+1)
	}
	if i >= len(m.b) || m.b[i] != '"' {
		m.i = i
		return nil, 0, false
	}
	end := skipString(m.b, i)
	key = m.b[i:end]
	i = skipWS(m.b, end)
	return key, skipWS(m.b, i+1), true // i+1: after the ':'
}

// next returns the next member: its name as the quoted literal, and its
// value.
func (m *members) next() (key, val []byte, ok bool) {
	key, start, ok := m.nextKey()
	if !ok {
		return nil, nil, false
	}
	m.i = skipValue(m.b, start)
	return key, m.b[start:m.i], true
}

// end is the offset after the object, once next or nextKey returned false.
func (m *members) end() int { return min(m.i+1, len(m.b)) }

// elements iterates over the elements of a validated JSON array.
type elements struct {
	b []byte
	i int
}

func newElements(arr []byte) elements { return elements{b: arr, i: 1} }

func (e *elements) next() ([]byte, bool) {
	i := skipWS(e.b, e.i)
	if i < len(e.b) && e.b[i] == ',' {
		i = skipWS(e.b, i+1)
	}
	if i >= len(e.b) || e.b[i] == ']' {
		return nil, false
	}
	end := skipValue(e.b, i)
	e.i = end
	return e.b[i:end], true
}

// is reports whether the quoted literal lit is the string s (escapes are
// not undone: names that use them are compared by unquote).
func is(lit []byte, s string) bool {
	return len(lit) == len(s)+2 && string(lit[1:len(lit)-1]) == s
}

// unquote returns the string value of a validated string literal.
func unquote(lit []byte) string {
	body := lit[1 : len(lit)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body)
	}
	var s string
	_ = stdjson.Unmarshal(lit, &s) // validated: only escapes are left to undo
	return s
}

// memberName returns a member name for comparisons, without allocating
// unless it holds escapes.
func memberName(lit []byte) []byte {
	body := lit[1 : len(lit)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return body
	}
	return []byte(unquote(lit))
}

// appendCompact appends the validated value v without insignificant
// whitespace.
func appendCompact(dst, v []byte) []byte {
	for i := 0; i < len(v); {
		switch c := v[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			end := skipString(v, i)
			dst = append(dst, v[i:end]...)
			i = end
		default:
			j := i + 1
			for j < len(v) && v[j] != '"' && v[j] != ' ' && v[j] != '\n' && v[j] != '\t' && v[j] != '\r' {
				j++
			}
			dst = append(dst, v[i:j]...)
			i = j
		}
	}
	return dst
}

// kindOf names the JSON type of a validated value for messages.
func kindOf(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func isNull(v []byte) bool { return len(v) == 0 || string(v) == "null" }
