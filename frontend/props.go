package frontend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// Bounds of a subscription's property selection.
const (
	maxPropertyLayers  = 64
	maxPropertyNames   = 64
	maxPropertyNameLen = 128
)

// propSelection is a subscription's "properties": per layer, or "*" for
// the layers not named, the property names its features carry.
type propSelection struct {
	byLayer  map[string][]string // sorted, unique names
	fallback []string
	hasAll   bool // "*" was given
	key      string
}

func parsePropSelection(m map[string][]string) (*propSelection, error) {
	if m == nil {
		return nil, nil
	}
	if len(m) > maxPropertyLayers {
		return nil, fmt.Errorf("properties: at most %d layers, got %d", maxPropertyLayers, len(m))
	}
	p := &propSelection{byLayer: make(map[string][]string, len(m))}
	var key strings.Builder
	for _, layer := range slices.Sorted(func(yield func(string) bool) {
		for l := range m {
			if !yield(l) {
				return
			}
		}
	}) {
		names := m[layer]
		if len(names) > maxPropertyNames {
			return nil, fmt.Errorf("properties[%q]: at most %d names, got %d", layer, maxPropertyNames, len(names))
		}
		for _, n := range names {
			if n == "" || len(n) > maxPropertyNameLen {
				return nil, fmt.Errorf("properties[%q]: names must be 1 to %d bytes, got %q", layer, maxPropertyNameLen, n)
			}
		}
		sorted := slices.Compact(slices.Sorted(slices.Values(names)))
		if layer == "*" {
			p.fallback, p.hasAll = sorted, true
		} else {
			p.byLayer[layer] = sorted
		}
		fmt.Fprintf(&key, "%q=%q;", layer, sorted)
	}
	p.key = key.String()
	return p, nil
}

// names returns the names kept for a layer; ok is false when all are.
func (p *propSelection) names(layer string) (names []string, ok bool) {
	if p == nil {
		return nil, false
	}
	if names, ok := p.byLayer[layer]; ok {
		return names, true
	}
	return p.fallback, p.hasAll
}

// appendSelected appends f's GeoJSON with only the selected properties.
// The feature's cached encoding ends with its properties object (layers
// keeps Properties pointing into it), so the rest is copied as it is.
func appendSelected(b []byte, f *layers.Feature, p *propSelection) []byte {
	names, ok := p.names(f.Layer)
	j, props := f.JSON(), f.Properties
	if !ok || len(props) == 0 {
		return append(b, j...)
	}
	end := len(j) - 1
	start := end - len(props)
	if start <= 0 || !bytes.Equal(j[start:end], props) {
		return appendFeatureWith(b, f, names)
	}
	b = append(b, j[:start]...)
	b = appendFiltered(b, props, names)
	return append(b, '}')
}

// appendFeatureWith encodes the feature afresh, as layers does.
func appendFeatureWith(b []byte, f *layers.Feature, names []string) []byte {
	b = append(b, `{"type":"Feature","id":`...)
	b = layers.AppendJSONString(b, f.ID)
	b = append(b, `,"layer":`...)
	b = layers.AppendJSONString(b, f.Layer)
	b = append(b, `,"time":"`...)
	b = f.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if f.Stale {
		b = append(b, `,"stale":true`...)
	}
	b = append(b, `,"geometry":`...)
	b = geo.AppendGeoJSON(b, f.Geometry)
	b = append(b, `,"properties":`...)
	b = appendFiltered(b, f.Properties, names)
	return append(b, '}')
}

// appendFiltered appends the members of the JSON object obj whose names
// are in sorted names, in their original order.
func appendFiltered(b, obj []byte, names []string) []byte {
	b = append(b, '{')
	first := true
	eachMember(obj, func(key, val []byte) bool {
		if _, ok := slices.BinarySearch(names, unquote(key)); !ok {
			return true
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, key...)
		b = append(b, ':')
		b = append(b, val...)
		return true
	})
	return append(b, '}')
}

// propertyValue returns the raw JSON value of a top-level member; absent
// and null are not found.
func propertyValue(obj []byte, name string) (val []byte, found bool) {
	eachMember(obj, func(k, v []byte) bool {
		if keyIs(k, name) {
			val, found = v, string(v) != "null"
			return false
		}
		return true
	})
	return val, found
}

func keyIs(raw []byte, name string) bool {
	if len(raw) == len(name)+2 && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1:len(raw)-1]) == name
	}
	return bytes.IndexByte(raw, '\\') >= 0 && unquote(raw) == name
}

// unquote decodes a raw JSON string.
func unquote(raw []byte) string {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// eachMember calls fn with the raw key (quoted) and raw value of each
// top-level member of a JSON object, until fn returns false. Properties
// are valid JSON (the streams checked them), so a malformed object just
// ends the walk.
func eachMember(obj []byte, fn func(key, val []byte) bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return
		}
		kEnd := stringEnd(obj, i)
		if kEnd < 0 {
			return
		}
		key := obj[i:kEnd]
		i = skipSpace(obj, kEnd)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		vEnd := valueEnd(obj, i)
		if vEnd <= i || !fn(key, obj[i:vEnd]) {
			return
		}
		i = skipSpace(obj, vEnd)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i], or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the index after the value starting at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = stringEnd(b, j); j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	for j := i; j < len(b); j++ {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
	}
	return len(b)
}

// selectInFrame applies a property selection to an encoded frame of the
// replay (whose features come encoded from the history store): the
// features of its "features" and "upserts" arrays keep only the selected
// properties. Everything else is copied as it is.
func selectInFrame(frame []byte, sel *propSelection) []byte {
	out := make([]byte, 0, len(frame))
	out = append(out, '{')
	first := true
	eachMember(frame, func(key, val []byte) bool {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, key...)
		out = append(out, ':')
		if k := unquote(key); k != "features" && k != "upserts" {
			out = append(out, val...)
			return true
		}
		out = append(out, '[')
		n := 0
		eachElement(val, func(f []byte) {
			if n > 0 {
				out = append(out, ',')
			}
			n++
			out = selectInFeature(out, f, sel)
		})
		out = append(out, ']')
		return true
	})
	return append(out, '}')
}

// selectInFeature appends an encoded feature with its properties selected
// for its layer.
func selectInFeature(b, f []byte, sel *propSelection) []byte {
	layer, _ := propertyValue(f, "layer")
	names, ok := sel.names(unquote(layer))
	if !ok {
		return append(b, f...)
	}
	b = append(b, '{')
	first := true
	eachMember(f, func(key, val []byte) bool {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, key...)
		b = append(b, ':')
		if keyIs(key, "properties") {
			b = appendFiltered(b, val, names)
		} else {
			b = append(b, val...)
		}
		return true
	})
	return append(b, '}')
}

// eachElement calls fn with each raw element of a JSON array.
func eachElement(arr []byte, fn func(elem []byte)) {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return
	}
	i++
	for {
		i = skipSpace(arr, i)
		if i >= len(arr) || arr[i] == ']' {
			return
		}
		end := valueEnd(arr, i)
		if end <= i {
			return
		}
		fn(arr[i:end])
		i = skipSpace(arr, end)
		if i >= len(arr) || arr[i] != ',' {
			return
		}
		i++
	}
}
