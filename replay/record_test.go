package replay

import (
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
)

func TestRecordOf(t *testing.T) {
	ls := layers.NewStore(layers.Config{}, nil)
	obs := time.Date(2026, 11, 27, 1, 0, 0, 123456789, time.UTC)
	ev := layers.Event{Layer: "feedback.reports", ID: "r-1", Time: obs,
		Geometry:   geom.NewPointFlat(geom.XY, []float64{108.22, 16.07}),
		Properties: []byte(`{"title":"<flood>","districtCode":"490"}`)}
	up := ls.Apply([]layers.Event{ev})[0]
	r := RecordOf(ls.Epoch(), up)
	if r.Op != OpUpsert || r.Seq != 1 || r.Epoch != ls.Epoch() || r.Area != "490" ||
		!r.Time.Equal(obs.Truncate(time.Millisecond)) || r.Time.Location() != time.UTC {
		t.Errorf("upsert record: %+v", r)
	}
	if string(r.Geometry) != `{"type":"Point","coordinates":[108.22,16.07]}` || string(r.Properties) != string(ev.Properties) {
		t.Errorf("geometry %s properties %s", r.Geometry, r.Properties)
	}
	if r.BBox != [4]float64{108.22, 16.07, 108.22, 16.07} {
		t.Errorf("bbox %v", r.BBox)
	}
	del := RecordOf(ls.Epoch(), ls.Apply([]layers.Event{{Layer: "feedback.reports", ID: "r-1", Op: layers.OpDelete, Time: obs.Add(time.Second)}})[0])
	if !del.Deleted() || del.Observed() || del.BBox != r.BBox || del.Time.Before(r.Time) {
		t.Errorf("delete record: %+v", del)
	}
}
