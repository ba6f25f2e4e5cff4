package frontend

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// BenchmarkSeesScoped measures the per-feature cost of the scope test the
// push adds to every routed change and snapshot feature: a Hải Châu
// subscription against points spread over the city, vs an unscoped one.
func BenchmarkSeesScoped(b *testing.B) {
	areas, err := access.DefaultAreas()
	if err != nil {
		b.Fatal(err)
	}
	sc, err := access.ScopeSpec{Areas: []string{"492"}}.Resolve(areas)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	fs := make([]*layers.Feature, 4096)
	for i := range fs {
		p := []float64{108.15 + r.Float64()*0.15, 16.0 + r.Float64()*0.12}
		s := layers.NewStore(layers.Config{}, nil)
		s.Apply([]layers.Event{{Layer: "traffic.cameras", ID: "c", Time: time.Unix(0, 0), Geometry: geom.NewPointFlat(geom.XY, p)}})
		fs[i] = s.Layer("traffic.cameras").Get("c")
	}
	for _, tc := range []struct {
		name  string
		scope *access.Scope
	}{{"unscoped", nil}, {"hai_chau", sc}} {
		b.Run(tc.name, func(b *testing.B) {
			sub := &subscription{layers: []string{"*"}, all: true, bbox: geo.World}
			if err := sub.limitTo(tc.scope); err != nil {
				b.Fatal(err)
			}
			n := 0
			for i := 0; b.Loop(); i++ {
				if sub.sees(fs[i%len(fs)]) {
					n++
				}
			}
			_ = n
		})
	}
}
