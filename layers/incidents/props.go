package incidents

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// errProps: the properties are not a JSON object the scanner can read.
var errProps = errors.New("properties: not a JSON object")

// extract reads into m the top-level members of the JSON object raw whose
// names are in need, skipping the rest without decoding them: the rules of
// a layer read a handful of its properties, and a full decode of every
// change (maps, every value boxed) was most of the engine's cost. Numbers
// become float64, strings string, true/false bool, null nil; objects and
// arrays are skipped (no condition compares them). raw comes from the
// store, which holds valid JSON; anything else is an error, not a panic.
func extract(raw []byte, need map[string]bool, m map[string]any) error {
	clear(m)
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return errProps
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return nil
	}
	for i < len(raw) {
		key, next, err := readString(raw, i)
		if err != nil {
			return err
		}
		i = skipSpace(raw, next)
		if i >= len(raw) || raw[i] != ':' {
			return errProps
		}
		i = skipSpace(raw, i+1)
		end, err := skipValue(raw, i)
		if err != nil {
			return err
		}
		if need[key] {
			// A repeated member replaces the earlier one, as in encoding/json.
			if v, ok := scalar(raw[i:end]); ok {
				m[key] = v
			} else {
				delete(m, key)
			}
		}
		i = skipSpace(raw, end)
		if i >= len(raw) {
			return errProps
		}
		if raw[i] == '}' {
			return nil
		}
		if raw[i] != ',' {
			return errProps
		}
		i = skipSpace(raw, i+1)
	}
	return errProps
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// readString reads the JSON string at b[i] and returns it unquoted and the
// index after its closing quote.
func readString(b []byte, i int) (string, int, error) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, errProps
	}
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			if !escaped && utf8.Valid(b[i+1:j]) {
				return string(b[i+1 : j]), j + 1, nil
			}
			var s string
			if err := jsonUnquote(b[i:j+1], &s); err != nil {
				return "", 0, errProps
			}
			return s, j + 1, nil
		}
	}
	return "", 0, errProps
}

// skipValue returns the index after the JSON value at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errProps
	}
	switch b[i] {
	case '"':
		_, end, err := readString(b, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				_, end, err := readString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errProps
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, errProps
	}
	return j, nil
}

// scalar decodes a number, string, boolean or null.
func scalar(v []byte) (any, bool) {
	switch {
	case len(v) == 0:
		return nil, false
	case v[0] == '"':
		s, _, err := readString(v, 0)
		return s, err == nil
	case string(v) == "true":
		return true, true
	case string(v) == "false":
		return false, true
	case string(v) == "null":
		return nil, false
	case v[0] == '{' || v[0] == '[':
		return nil, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

func jsonUnquote(b []byte, s *string) error { return json.Unmarshal(b, s) }

// needs lists the properties the rules of one layer read.
func needs(rules []*Rule) map[string]bool {
	need := map[string]bool{}
	for _, r := range rules {
		for _, c := range r.conds {
			need[c.prop] = true
		}
		if r.Property != "" {
			need[r.Property] = true
		}
		if r.GroupBy != "" {
			need[r.GroupBy] = true
		}
	}
	return need
}
