package streams

import (
	"fmt"
	"unicode/utf8"
)

// This file is a strict, allocation-free JSON scanner. The JSON library is
// lenient about what it passes through as raw bytes (a RawMessage may hold
// "[1,2}" or invalid UTF-8), and its errors carry no usable position; since
// properties are embedded verbatim into outgoing GeoJSON, every byte of an
// event is checked here against RFC 8259 first, with the offset of the
// first problem.

// maxDepth bounds nesting so that a body of 16 MiB of '[' cannot exhaust
// the stack; real events nest a handful of levels.
const maxDepth = 256

// syntaxError is a JSON syntax error at a byte offset of the scanned buffer.
type syntaxError struct {
	off int
	msg string
}

// scanner walks buf from pos. Offsets are positions in buf, which is the
// whole request body, so errors point into what the sender sent.
type scanner struct {
	buf   []byte
	pos   int
	depth int
	// badUTF8 is the offset of the first invalid UTF-8 sequence inside a
	// string, or -1. Invalid UTF-8 does not stop the scan: the structure is
	// still known, so only the event holding it is rejected.
	badUTF8 int
	// spaces counts whitespace bytes skipped between tokens, so a caller can
	// tell whether a value is already compact without looking at it again.
	spaces int
}

func newScanner(buf []byte, pos int) scanner {
	return scanner{buf: buf, pos: pos, badUTF8: -1}
}

func (s *scanner) errorf(format string, args ...any) *syntaxError {
	return &syntaxError{off: s.pos, msg: fmt.Sprintf(format, args...)}
}

// unexpected describes the byte at pos for an error message.
func (s *scanner) unexpected(want string) *syntaxError {
	if s.pos >= len(s.buf) {
		return s.errorf("unexpected end of input, want %s", want)
	}
	return s.errorf("unexpected %s, want %s", describeByte(s.buf[s.pos]), want)
}

func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("character %q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (s *scanner) skipSpace() {
	start := s.pos
	for s.pos < len(s.buf) {
		switch s.buf[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			s.spaces += s.pos - start
			return
		}
	}
	s.spaces += s.pos - start
}

// peek returns the byte at pos, or 0 at the end.
func (s *scanner) peek() byte {
	if s.pos < len(s.buf) {
		return s.buf[s.pos]
	}
	return 0
}

// value checks one JSON value starting at pos and moves past it.
func (s *scanner) value() *syntaxError {
	switch c := s.peek(); {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.unexpected("a JSON value")
	}
}

func (s *scanner) enter() *syntaxError {
	if s.depth++; s.depth > maxDepth {
		return s.errorf("nesting deeper than %d levels", maxDepth)
	}
	s.pos++
	s.skipSpace()
	return nil
}

func (s *scanner) object() *syntaxError {
	return s.list('}', s.member, "',' or '}' after an object member")
}

// list checks a JSON object or array whose opening bracket is at pos: the
// elements elem checks, separated by commas, up to closing. after names
// what may follow an element, for the error message.
func (s *scanner) list(closing byte, elem func() *syntaxError, after string) *syntaxError {
	if err := s.enter(); err != nil {
		return err
	}
	if s.peek() == closing {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.pos++
			s.skipSpace()
		case closing:
			s.pos++
			s.depth--
			return nil
		default:
			return s.unexpected(after)
		}
	}
}

// member checks `"key": value` and returns with pos after the value.
func (s *scanner) member() *syntaxError {
	if s.peek() != '"' {
		return s.unexpected("a quoted member name")
	}
	if err := s.str(); err != nil {
		return err
	}
	s.skipSpace()
	if s.peek() != ':' {
		return s.unexpected("':' after a member name")
	}
	s.pos++
	s.skipSpace()
	return s.value()
}

func (s *scanner) array() *syntaxError {
	return s.list(']', s.value, "',' or ']' after an array element")
}

// str checks a string literal: escapes, no raw control characters, and
// valid UTF-8 (recorded in badUTF8, not fatal).
func (s *scanner) str() *syntaxError {
	start := s.pos
	s.pos++
	for s.pos < len(s.buf) {
		c := s.buf[s.pos]
		switch {
		case c == '"':
			s.pos++
			return nil
		case c == '\\':
			if err := s.escape(); err != nil {
				return err
			}
		case c < 0x20:
			return s.errorf("raw control character 0x%02x in a string (escape it as \\u%04x)", c, c)
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, n := utf8.DecodeRune(s.buf[s.pos:])
			if r == utf8.RuneError && n <= 1 && s.badUTF8 < 0 {
				s.badUTF8 = s.pos
			}
			s.pos += max(n, 1)
		}
	}
	s.pos = start
	return s.errorf("unterminated string")
}

func (s *scanner) escape() *syntaxError {
	start := s.pos
	s.pos++ // the backslash
	switch s.peek() {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos++
		return nil
	case 'u':
		r, err := s.hex4()
		if err != nil {
			return err
		}
		s.surrogate(start, r)
		return nil
	default:
		return s.unexpected(`an escape (\" \\ \/ \b \f \n \r \t \uXXXX)`)
	}
}

// hex4 reads the "uXXXX" of a \u escape.
func (s *scanner) hex4() (rune, *syntaxError) {
	s.pos++ // the u
	var r rune
	for range 4 {
		c := s.peek()
		if !isHex(c) {
			return 0, s.unexpected("4 hex digits after \\u")
		}
		r = r<<4 | rune(hexValue(c))
		s.pos++
	}
	return r, nil
}

// surrogate checks that an escaped UTF-16 surrogate is a high one followed
// by an escaped low one, consuming the latter. A lone surrogate is no
// character: decoders silently turn it into U+FFFD, so it is refused like
// invalid UTF-8 (recorded at the backslash, not fatal).
func (s *scanner) surrogate(start int, r rune) {
	if r < 0xd800 || r > 0xdfff {
		return
	}
	if r < 0xdc00 && s.pos+6 <= len(s.buf) && s.buf[s.pos] == '\\' && s.buf[s.pos+1] == 'u' {
		save := s.pos
		s.pos++
		if low, err := s.hex4(); err == nil && low >= 0xdc00 && low <= 0xdfff {
			return
		}
		s.pos = save // not a low surrogate: let the string loop judge it
	}
	if s.badUTF8 < 0 {
		s.badUTF8 = start
	}
}

func hexValue(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// number checks the RFC 8259 number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() *syntaxError {
	if s.peek() == '-' {
		s.pos++
	}
	switch c := s.peek(); {
	case c == '0':
		s.pos++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return s.unexpected("a digit")
	}
	if s.peek() == '.' {
		s.pos++
		if !isDigit(s.peek()) {
			return s.unexpected("a digit after the decimal point")
		}
		s.digits()
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.pos++
		if c := s.peek(); c == '+' || c == '-' {
			s.pos++
		}
		if !isDigit(s.peek()) {
			return s.unexpected("a digit in the exponent")
		}
		s.digits()
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *scanner) digits() {
	for s.pos < len(s.buf) && isDigit(s.buf[s.pos]) {
		s.pos++
	}
}

func (s *scanner) literal(word string) *syntaxError {
	for i := 0; i < len(word); i++ {
		if s.peek() != word[i] {
			return s.unexpected(fmt.Sprintf("%q", word))
		}
		s.pos++
	}
	return nil
}

// kindOf names the JSON type of a value by its first byte, for messages
// like "found number".
func kindOf(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch c := v[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	default:
		return "a number"
	}
}

// compact appends the valid JSON text v with whitespace outside strings
// removed. v must have passed the scanner.
func compact(dst, v []byte) []byte {
	inStr := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inStr {
			dst = append(dst, c)
			if c == '\\' {
				i++
				dst = append(dst, v[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
		case '"':
			inStr = true
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
