package sim

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/danang-ioc/ioc/layers"
)

// props builds one event's properties: a compact JSON object written
// straight into a byte slice, members in the order they are added (the
// modules sort keys on output).
type props struct{ b []byte }

func newProps() props { return props{b: make([]byte, 0, 192)} }

func (p *props) key(k string) {
	if len(p.b) == 0 {
		p.b = append(p.b, '{')
	} else {
		p.b = append(p.b, ',')
	}
	p.b = layers.AppendJSONString(p.b, k)
	p.b = append(p.b, ':')
}

func (p *props) str(k, v string) {
	p.key(k)
	p.b = layers.AppendJSONString(p.b, v)
}

// num writes v rounded to dec decimals, in its shortest form.
func (p *props) num(k string, v float64, dec int) {
	p.key(k)
	p.b = strconv.AppendFloat(p.b, roundTo(v, dec), 'f', -1, 64)
}

func (p *props) int(k string, v int) {
	p.key(k)
	p.b = strconv.AppendInt(p.b, int64(v), 10)
}

func (p *props) boolean(k string, v bool) {
	p.key(k)
	p.b = strconv.AppendBool(p.b, v)
}

// done closes the object and returns it; the props must not be used again.
func (p *props) done() json.RawMessage {
	if len(p.b) == 0 {
		return json.RawMessage("{}")
	}
	return append(p.b, '}')
}

// roundTo rounds half away from zero to dec decimals; it never returns -0.
func roundTo(v float64, dec int) float64 {
	f := math.Pow10(dec)
	r := math.Round(v*f) / f
	if r == 0 {
		return 0
	}
	return r
}
