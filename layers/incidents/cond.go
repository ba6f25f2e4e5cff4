package incidents

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Severity orders incidents: info < minor < major < critical.
type Severity string

// The severities.
const (
	SevInfo     Severity = "info"
	SevMinor    Severity = "minor"
	SevMajor    Severity = "major"
	SevCritical Severity = "critical"
)

var severityRank = map[Severity]int{SevInfo: 1, SevMinor: 2, SevMajor: 3, SevCritical: 4}

func (s Severity) valid() bool { return severityRank[s] > 0 }

// maxSeverity returns the graver of a and b.
func maxSeverity(a, b Severity) Severity {
	if severityRank[b] > severityRank[a] {
		return b
	}
	return a
}

// cond is one parsed condition "<property> <op> <value>".
type cond struct {
	prop string
	op   string
	num  float64 // value when numeric
	str  string  // value when a string
	bool *bool   // value when a boolean
	set  []any   // values of "in"
	kind byte    // 'n' number, 's' string, 'b' bool, 'i' in-list
}

var condOps = []string{">=", "<=", "!=", "==", ">", "<", " in "}

// parseCond reads "aqi >= 151", "congestionLevel == 4", "state == no_power",
// `category in ["flooded_road","fallen_tree"]`, "flooded == true". A value
// that is not JSON is taken as a bare string.
func parseCond(s string) (cond, error) {
	for _, op := range condOps {
		i := strings.Index(s, op)
		if i < 0 {
			continue
		}
		c := cond{prop: strings.TrimSpace(s[:i]), op: strings.TrimSpace(op)}
		val := strings.TrimSpace(s[i+len(op):])
		if c.prop == "" || strings.ContainsAny(c.prop, " \t") {
			return cond{}, fmt.Errorf("%q: want <property> <op> <value> with one property name before %s", s, c.op)
		}
		if val == "" {
			return cond{}, fmt.Errorf("%q: no value after %s", s, c.op)
		}
		return c, c.setValue(s, val)
	}
	return cond{}, fmt.Errorf("%q: want <property> <op> <value>, op one of >=, >, <=, <, ==, !=, in", s)
}

func (c *cond) setValue(s, val string) error {
	if c.op == "in" {
		if err := json.Unmarshal([]byte(val), &c.set); err != nil || len(c.set) == 0 {
			return fmt.Errorf("%q: in wants a JSON array of values such as [\"a\",\"b\"]", s)
		}
		c.kind = 'i'
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(val), &v); err != nil {
		v = val // a bare word
	}
	switch v := v.(type) {
	case float64:
		c.num, c.kind = v, 'n'
	case string:
		c.str, c.kind = v, 's'
	case bool:
		c.bool, c.kind = &v, 'b'
	default:
		return fmt.Errorf("%q: the value must be a number, a string or true/false", s)
	}
	if c.kind != 'n' && c.op != "==" && c.op != "!=" {
		return fmt.Errorf("%q: %s compares numbers; strings and booleans take == or !=", s, c.op)
	}
	return nil
}

// holds reports whether the condition holds for props. A missing property,
// or one of another type, never satisfies a comparison (not even !=), so a
// report without the measured value neither raises nor clears.
func (c *cond) holds(props map[string]any) (holds, known bool) {
	v, ok := props[c.prop]
	if !ok || v == nil {
		return false, false
	}
	switch c.kind {
	case 'n':
		f, ok := v.(float64)
		if !ok {
			return false, false
		}
		return compare(f, c.op, c.num), true
	case 's':
		s, ok := v.(string)
		if !ok {
			return false, false
		}
		return (s == c.str) == (c.op == "=="), true
	case 'b':
		b, ok := v.(bool)
		if !ok {
			return false, false
		}
		return (b == *c.bool) == (c.op == "=="), true
	case 'i':
		return slices.Contains(c.set, v), true
	}
	return false, false
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case ">=":
		return a >= b
	case ">":
		return a > b
	case "<=":
		return a <= b
	case "<":
		return a < b
	case "==":
		return a == b
	case "!=":
		return a != b
	}
	return false
}

// String is the condition as written, for evidence summaries.
func (c *cond) String() string {
	switch c.kind {
	case 'n':
		return fmt.Sprintf("%s %s %v", c.prop, c.op, c.num)
	case 's':
		return fmt.Sprintf("%s %s %s", c.prop, c.op, c.str)
	case 'b':
		return fmt.Sprintf("%s %s %v", c.prop, c.op, *c.bool)
	}
	b, _ := json.Marshal(c.set)
	return fmt.Sprintf("%s in %s", c.prop, b)
}

// allHold reports whether every condition holds; known is false when a
// property a condition needs is missing.
func allHold(conds []cond, props map[string]any) (holds, known bool) {
	for i := range conds {
		h, k := conds[i].holds(props)
		if !k {
			return false, false
		}
		if !h {
			return false, true
		}
	}
	return true, true
}
