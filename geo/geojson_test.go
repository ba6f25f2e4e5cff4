package geo_test

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

// shape is what a decoded geometry must look like: its Go type, flat XY
// coordinates and ring/line ends.
type shape struct {
	typ   string
	flat  []float64
	ends  []int   // LineString-based types with parts
	endss [][]int // MultiPolygon
}

func shapeOf(g geom.T) shape {
	s := shape{flat: g.FlatCoords()}
	switch g := g.(type) {
	case *geom.Point:
		s.typ = "Point"
	case *geom.MultiPoint:
		s.typ = "MultiPoint"
	case *geom.LineString:
		s.typ = "LineString"
	case *geom.MultiLineString:
		s.typ, s.ends = "MultiLineString", g.Ends()
	case *geom.Polygon:
		s.typ, s.ends = "Polygon", g.Ends()
	case *geom.MultiPolygon:
		s.typ, s.endss = "MultiPolygon", g.Endss()
	default:
		s.typ = "?"
	}
	return s
}

func (s shape) equal(o shape) bool {
	return s.typ == o.typ && slices.Equal(s.flat, o.flat) && slices.Equal(s.ends, o.ends) &&
		slices.EqualFunc(s.endss, o.endss, slices.Equal)
}

// validGeometries are accepted by Decode; want is the decoded shape and
// canon the encoding AppendGeoJSON must produce.
var validGeometries = []struct {
	name  string
	in    string
	want  shape
	canon string
}{
	{
		name:  "Point",
		in:    `{"type":"Point","coordinates":[108.22,16.07]}`,
		want:  shape{typ: "Point", flat: []float64{108.22, 16.07}},
		canon: `{"type":"Point","coordinates":[108.22,16.07]}`,
	},
	{
		name:  "Point with altitude dropped, spaces and extra members",
		in:    ` { "bbox":[1,2,3,4], "coordinates" : [ 108.22 , 16.07 , 12.5 ] , "type" : "Point" } `,
		want:  shape{typ: "Point", flat: []float64{108.22, 16.07}},
		canon: `{"type":"Point","coordinates":[108.22,16.07]}`,
	},
	{
		name:  "Point on the antimeridian and pole",
		in:    `{"type":"Point","coordinates":[-180,90]}`,
		want:  shape{typ: "Point", flat: []float64{-180, 90}},
		canon: `{"type":"Point","coordinates":[-180,90]}`,
	},
	{
		name:  "MultiPoint",
		in:    `{"type":"MultiPoint","coordinates":[[108.2,16.05],[108.21,16.06,3]]}`,
		want:  shape{typ: "MultiPoint", flat: []float64{108.2, 16.05, 108.21, 16.06}},
		canon: `{"type":"MultiPoint","coordinates":[[108.2,16.05],[108.21,16.06]]}`,
	},
	{
		name:  "MultiPoint with one position",
		in:    `{"type":"MultiPoint","coordinates":[[108.2,16.05]]}`,
		want:  shape{typ: "MultiPoint", flat: []float64{108.2, 16.05}},
		canon: `{"type":"MultiPoint","coordinates":[[108.2,16.05]]}`,
	},
	{
		name:  "LineString",
		in:    `{"type":"LineString","coordinates":[[108.2,16.05],[108.21,16.06],[108.23,16.061]]}`,
		want:  shape{typ: "LineString", flat: []float64{108.2, 16.05, 108.21, 16.06, 108.23, 16.061}},
		canon: `{"type":"LineString","coordinates":[[108.2,16.05],[108.21,16.06],[108.23,16.061]]}`,
	},
	{
		name: "MultiLineString",
		in:   `{"type":"MultiLineString","coordinates":[[[108.2,16.05],[108.21,16.06]],[[108.1,16],[108.11,16.01],[108.12,16]]]}`,
		want: shape{typ: "MultiLineString",
			flat: []float64{108.2, 16.05, 108.21, 16.06, 108.1, 16, 108.11, 16.01, 108.12, 16},
			ends: []int{4, 10}},
		canon: `{"type":"MultiLineString","coordinates":[[[108.2,16.05],[108.21,16.06]],[[108.1,16],[108.11,16.01],[108.12,16]]]}`,
	},
	{
		name: "Polygon with hole",
		in: `{"type":"Polygon","coordinates":[` +
			`[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16.1],[108.1,16]],` +
			`[[108.18,16.04],[108.18,16.06],[108.22,16.06],[108.18,16.04]]]}`,
		want: shape{typ: "Polygon",
			flat: []float64{108.1, 16, 108.3, 16, 108.3, 16.1, 108.1, 16.1, 108.1, 16,
				108.18, 16.04, 108.18, 16.06, 108.22, 16.06, 108.18, 16.04},
			ends: []int{10, 18}},
		canon: `{"type":"Polygon","coordinates":[[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16.1],[108.1,16]],[[108.18,16.04],[108.18,16.06],[108.22,16.06],[108.18,16.04]]]}`,
	},
	{
		name: "MultiPolygon, second with hole",
		in: `{"type":"MultiPolygon","coordinates":[` +
			`[[[108,16],[108.01,16],[108.01,16.01],[108,16]]],` +
			`[[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16]],[[108.2,16.01],[108.25,16.01],[108.25,16.02],[108.2,16.01]]]]}`,
		want: shape{typ: "MultiPolygon",
			flat: []float64{108, 16, 108.01, 16, 108.01, 16.01, 108, 16,
				108.1, 16, 108.3, 16, 108.3, 16.1, 108.1, 16,
				108.2, 16.01, 108.25, 16.01, 108.25, 16.02, 108.2, 16.01},
			endss: [][]int{{8}, {16, 24}}},
		canon: `{"type":"MultiPolygon","coordinates":[[[[108,16],[108.01,16],[108.01,16.01],[108,16]]],[[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16]],[[108.2,16.01],[108.25,16.01],[108.25,16.02],[108.2,16.01]]]]}`,
	},
	{
		name:  "numbers that need every digit",
		in:    `{"type":"LineString","coordinates":[[108.22000000000001,16.070000000000004],[1e-7,-0],[108.123456789012345,-16.5e0]]}`,
		want:  shape{typ: "LineString", flat: []float64{108.22000000000001, 16.070000000000004, 1e-7, 0, 108.123456789012345, -16.5}},
		canon: `{"type":"LineString","coordinates":[[108.22000000000001,16.070000000000004],[0.0000001,-0],[108.12345678901235,-16.5]]}`,
	},
}

func TestDecodeValid(t *testing.T) {
	for _, tc := range validGeometries {
		t.Run(tc.name, func(t *testing.T) {
			g, err := geo.Decode([]byte(tc.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if g.Layout() != geom.XY {
				t.Errorf("layout %v, want XY", g.Layout())
			}
			if got := shapeOf(g); !got.equal(tc.want) {
				t.Errorf("decoded %+v\nwant    %+v", got, tc.want)
			}
			if enc := string(geo.AppendGeoJSON(nil, g)); enc != tc.canon {
				t.Errorf("AppendGeoJSON\n got %s\nwant %s", enc, tc.canon)
			}
		})
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, tc := range validGeometries {
		t.Run(tc.name, func(t *testing.T) {
			g, err := geo.Decode([]byte(tc.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			enc := geo.AppendGeoJSON([]byte("prefix"), g)
			if !strings.HasPrefix(string(enc), "prefix") {
				t.Fatalf("AppendGeoJSON dropped dst: %s", enc)
			}
			enc = enc[len("prefix"):]
			if !json.Valid(enc) {
				t.Fatalf("AppendGeoJSON wrote invalid JSON: %s", enc)
			}
			g2, err := geo.Decode(enc)
			if err != nil {
				t.Fatalf("Decode(AppendGeoJSON(g)) = %v (encoding %s)", err, enc)
			}
			if a, b := shapeOf(g), shapeOf(g2); !a.equal(b) {
				t.Errorf("round trip changed the geometry\nbefore %+v\nafter  %+v", a, b)
			}
			if enc2 := geo.AppendGeoJSON(nil, g2); string(enc2) != string(enc) {
				t.Errorf("second encoding differs:\n%s\n%s", enc, enc2)
			}
		})
	}
}

func TestAppendGeoJSONUnsupported(t *testing.T) {
	got := geo.AppendGeoJSON([]byte("x="), geom.NewGeometryCollection())
	if string(got) != "x=null" {
		t.Errorf("GeometryCollection encodes as %s, want x=null", got)
	}
}

// invalidGeometries are refused by Decode with the given reason and path;
// msg is a fragment the message must contain.
var invalidGeometries = []struct {
	name   string
	in     string
	reason geo.Reason
	path   string
	msg    string
}{
	// The object itself.
	{"not JSON", `{"type":"Point",`, geo.ReasonInvalid, "", "not a GeoJSON geometry object"},
	{"trailing garbage", `{"type":"Point","coordinates":[108,16]} x`, geo.ReasonInvalid, "", "not a GeoJSON geometry object"},
	{"array instead of object", `[108.22,16.07]`, geo.ReasonInvalid, "", "not a GeoJSON geometry object"},
	{"type is a number", `{"type":1,"coordinates":[108,16]}`, geo.ReasonInvalid, "", "not a GeoJSON geometry object"},
	{"empty object", `{}`, geo.ReasonInvalid, "type", "missing geometry type"},
	{"JSON null", `null`, geo.ReasonInvalid, "type", "missing geometry type"},
	{"missing type", `{"coordinates":[108.22,16.07]}`, geo.ReasonInvalid, "type", "missing geometry type"},
	{"empty type", `{"type":"","coordinates":[108.22,16.07]}`, geo.ReasonInvalid, "type", "missing geometry type"},
	{"unknown type", `{"type":"Circle","coordinates":[108.22,16.07]}`, geo.ReasonUnsupported, "type", `unknown geometry type "Circle"`},
	{"unknown type without coordinates", `{"type":"Circle","center":[108.22,16.07],"radius":50}`, geo.ReasonUnsupported, "type", `unknown geometry type "Circle"`},
	{"type is case sensitive", `{"type":"point","coordinates":[108.22,16.07]}`, geo.ReasonUnsupported, "type", `unknown geometry type "point"`},
	{"Feature is not a geometry", `{"type":"Feature","geometry":{"type":"Point","coordinates":[108.22,16.07]}}`, geo.ReasonUnsupported, "type", `unknown geometry type "Feature"`},
	{"GeometryCollection", `{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[108.22,16.07]}]}`, geo.ReasonUnsupported, "type", "GeometryCollection is not supported"},
	{"GeometryCollection with coordinates", `{"type":"GeometryCollection","coordinates":[108.22,16.07]}`, geo.ReasonUnsupported, "type", "GeometryCollection is not supported"},

	// Missing or malformed coordinates.
	{"missing coordinates", `{"type":"Point"}`, geo.ReasonInvalid, "coordinates", "missing coordinates"},
	{"null coordinates", `{"type":"LineString","coordinates":null}`, geo.ReasonInvalid, "coordinates", "missing coordinates"},
	{"coordinates as string", `{"type":"Point","coordinates":"108.22,16.07"}`, geo.ReasonInvalid, "coordinates", "want a position"},
	{"coordinates as object", `{"type":"Point","coordinates":{"lon":108.22,"lat":16.07}}`, geo.ReasonInvalid, "coordinates", "want a position"},
	{"number as string", `{"type":"Point","coordinates":["108.22",16.07]}`, geo.ReasonInvalid, "coordinates", "want a position"},
	{"number beyond float64", `{"type":"Point","coordinates":[1e999,16.07]}`, geo.ReasonInvalid, "coordinates", "want a position"},

	// Wrong nesting depth.
	{"Point nested too deep", `{"type":"Point","coordinates":[[108.22,16.07]]}`, geo.ReasonInvalid, "coordinates", "want a position"},
	{"LineString given a position", `{"type":"LineString","coordinates":[108.22,16.07]}`, geo.ReasonInvalid, "coordinates", "want an array of positions"},
	{"MultiPoint given a position", `{"type":"MultiPoint","coordinates":[108.22,16.07]}`, geo.ReasonInvalid, "coordinates", "want an array of positions"},
	{"Polygon given a line", `{"type":"Polygon","coordinates":[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16]]}`, geo.ReasonInvalid, "coordinates", "want an array of linear rings"},
	{"MultiLineString given a line", `{"type":"MultiLineString","coordinates":[[108.1,16],[108.3,16]]}`, geo.ReasonInvalid, "coordinates", "want an array of line strings"},
	{"MultiPolygon given a polygon", `{"type":"MultiPolygon","coordinates":[[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16]]]}`, geo.ReasonInvalid, "coordinates", "want an array of polygons"},

	// Too few positions, lines or rings.
	{"LineString with no position", `{"type":"LineString","coordinates":[]}`, geo.ReasonInvalid, "coordinates", "has 0 positions, needs at least 2"},
	{"LineString with one position", `{"type":"LineString","coordinates":[[108.22,16.07]]}`, geo.ReasonInvalid, "coordinates", "has 1 positions, needs at least 2"},
	{"MultiPoint with no position", `{"type":"MultiPoint","coordinates":[]}`, geo.ReasonInvalid, "coordinates", "MultiPoint has no positions"},
	{"MultiLineString with no line", `{"type":"MultiLineString","coordinates":[]}`, geo.ReasonInvalid, "coordinates", "no line strings"},
	{"MultiLineString second line too short", `{"type":"MultiLineString","coordinates":[[[108.2,16.05],[108.21,16.06]],[[108.1,16]]]}`, geo.ReasonInvalid, "coordinates[1]", "has 1 positions, needs at least 2"},
	{"Polygon with no ring", `{"type":"Polygon","coordinates":[]}`, geo.ReasonInvalid, "coordinates", "no rings"},
	{"Polygon ring of three positions", `{"type":"Polygon","coordinates":[[[108.1,16],[108.3,16],[108.1,16]]]}`, geo.ReasonInvalid, "coordinates[0]", "has 3 positions, needs at least 4"},
	{"MultiPolygon with no polygon", `{"type":"MultiPolygon","coordinates":[]}`, geo.ReasonInvalid, "coordinates", "MultiPolygon has no polygons"},
	{"MultiPolygon with empty polygon", `{"type":"MultiPolygon","coordinates":[[]]}`, geo.ReasonInvalid, "coordinates[0]", "no rings"},
	{"MultiPolygon hole too short", `{"type":"MultiPolygon","coordinates":[[[[108,16],[108.01,16],[108.01,16.01],[108,16]]],[[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16]],[[108.2,16.01],[108.2,16.01]]]]}`, geo.ReasonInvalid, "coordinates[1][1]", "has 2 positions, needs at least 4"},

	// Rings must be closed.
	{"unclosed outer ring", `{"type":"Polygon","coordinates":[[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16.1]]]}`, geo.ReasonInvalid, "coordinates[0]", "linear ring is not closed"},
	{"unclosed hole", `{"type":"Polygon","coordinates":[[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16]],[[108.2,16.01],[108.25,16.01],[108.25,16.02],[108.2,16.02]]]}`, geo.ReasonInvalid, "coordinates[1]", "linear ring is not closed"},
	{"unclosed ring in second polygon", `{"type":"MultiPolygon","coordinates":[[[[108,16],[108.01,16],[108.01,16.01],[108,16]]],[[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16.1]]]]}`, geo.ReasonInvalid, "coordinates[1][0]", "linear ring is not closed"},
	{"ring closed only in latitude", `{"type":"Polygon","coordinates":[[[108.1,16],[108.3,16],[108.3,16.1],[108.2,16]]]}`, geo.ReasonInvalid, "coordinates[0]", "linear ring is not closed"},

	// Positions.
	{"empty position", `{"type":"Point","coordinates":[]}`, geo.ReasonInvalid, "coordinates", "needs 2 or 3 numbers [lon, lat(, alt)], got 0"},
	{"position with one number", `{"type":"Point","coordinates":[108.22]}`, geo.ReasonInvalid, "coordinates", "got 1"},
	{"position with four numbers", `{"type":"Point","coordinates":[108.22,16.07,5,1]}`, geo.ReasonInvalid, "coordinates", "got 4"},
	{"line position with one number", `{"type":"LineString","coordinates":[[108.2,16.05],[108.21]]}`, geo.ReasonInvalid, "coordinates[1]", "got 1"},
	{"null position in line", `{"type":"LineString","coordinates":[[108.2,16.05],null]}`, geo.ReasonInvalid, "coordinates[1]", "got 0"},
	{"null longitude", `{"type":"Point","coordinates":[null,16.07]}`, geo.ReasonInvalid, "coordinates[0]", "null"},
	{"null latitude in ring", `{"type":"Polygon","coordinates":[[[108.1,16],[108.3,16],[108.3,null],[108.1,16]]]}`, geo.ReasonInvalid, "coordinates[0][2][1]", "null"},

	// Ranges.
	{"longitude above 180", `{"type":"Point","coordinates":[180.5,16.07]}`, geo.ReasonOutOfRange, "coordinates", "longitude 180.5 is out of range"},
	{"longitude below -180", `{"type":"Point","coordinates":[-181,0]}`, geo.ReasonOutOfRange, "coordinates", "longitude -181 is out of range"},
	{"latitude above 90", `{"type":"Point","coordinates":[108.22,90.5]}`, geo.ReasonOutOfRange, "coordinates", "latitude 90.5 is out of range"},
	{"latitude below -90", `{"type":"Point","coordinates":[108.22,-95]}`, geo.ReasonOutOfRange, "coordinates", "latitude -95 is out of range"},
	{"both out of range", `{"type":"Point","coordinates":[200,100]}`, geo.ReasonOutOfRange, "coordinates", "longitude 200 is out of range"},
	{"latitude out of range in line", `{"type":"LineString","coordinates":[[108.2,16.05],[108.21,-91]]}`, geo.ReasonOutOfRange, "coordinates[1]", "latitude -91"},
	{"swapped point", `{"type":"Point","coordinates":[16.07,108.22]}`, geo.ReasonSwapped, "coordinates", "coordinates look swapped"},
	{"swapped negative", `{"type":"Point","coordinates":[-16.07,-108.22]}`, geo.ReasonSwapped, "coordinates", "look swapped"},
	{"swapped vertex in polygon", `{"type":"Polygon","coordinates":[[[108.1,16],[108.3,16],[108.3,16.1],[16.1,108.1],[108.1,16]]]}`, geo.ReasonSwapped, "coordinates[0][3]", "look swapped"},
	{"swapped vertex in hole of second polygon", `{"type":"MultiPolygon","coordinates":[[[[108,16],[108.01,16],[108.01,16.01],[108,16]]],[[[108.1,16],[108.3,16],[108.3,16.1],[108.1,16]],[[108.2,16.01],[108.25,16.01],[16.02,108.25],[108.2,16.01]]]]}`, geo.ReasonSwapped, "coordinates[1][1][2]", "look swapped"},
	{"swapped in multipoint", `{"type":"MultiPoint","coordinates":[[108.2,16.05],[108.21,16.06],[16.07,108.22]]}`, geo.ReasonSwapped, "coordinates[2]", "look swapped"},
	{"swapped in multilinestring", `{"type":"MultiLineString","coordinates":[[[108.2,16.05],[108.21,16.06]],[[108.1,16],[16.01,108.11]]]}`, geo.ReasonSwapped, "coordinates[1][1]", "look swapped"},
	{"first error wins", `{"type":"LineString","coordinates":[[108.2,16.05],[16.06,108.21],[500,16]]}`, geo.ReasonSwapped, "coordinates[1]", "look swapped"},
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range invalidGeometries {
		t.Run(tc.name, func(t *testing.T) {
			g, err := geo.Decode([]byte(tc.in))
			if err == nil {
				t.Fatalf("Decode accepted %s as %v", tc.in, shapeOf(g))
			}
			if g != nil {
				t.Errorf("Decode returned a geometry with the error %v", err)
			}
			var ge *geo.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %T %v is not a *geo.Error", err, err)
			}
			if ge.Reason != tc.reason || ge.Path != tc.path {
				t.Errorf("reason %q path %q (%v), want reason %q path %q", ge.Reason, ge.Path, err, tc.reason, tc.path)
			}
			if !strings.Contains(ge.Msg, tc.msg) {
				t.Errorf("message %q does not contain %q", ge.Msg, tc.msg)
			}
			want := tc.path + ": " + ge.Msg
			if tc.path == "" {
				want = ge.Msg
			}
			if err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestCheckPosition(t *testing.T) {
	tests := []struct {
		p      []float64
		reason geo.Reason // "" when valid
	}{
		{[]float64{108.22, 16.07}, ""},
		{[]float64{108.22, 16.07, -3}, ""},
		{[]float64{180, -90}, ""},
		{[]float64{-180, 90}, ""},
		{[]float64{0, 0}, ""},
		{nil, geo.ReasonInvalid},
		{[]float64{1}, geo.ReasonInvalid},
		{[]float64{1, 2, 3, 4}, geo.ReasonInvalid},
		{[]float64{16.07, 108.22}, geo.ReasonSwapped},
		{[]float64{90, 180}, geo.ReasonSwapped},
		{[]float64{90.0001, 180}, geo.ReasonOutOfRange},
		{[]float64{108.22, 180.0001}, geo.ReasonOutOfRange},
		{[]float64{math.NaN(), 16}, geo.ReasonOutOfRange},
		{[]float64{108, math.Inf(1)}, geo.ReasonOutOfRange},
	}
	for _, tc := range tests {
		err := geo.CheckPosition(tc.p)
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("CheckPosition(%v) = %v, want valid", tc.p, err)
		case tc.reason != "" && err == nil:
			t.Errorf("CheckPosition(%v) accepted it, want %s", tc.p, tc.reason)
		case tc.reason != "" && err.Reason != tc.reason:
			t.Errorf("CheckPosition(%v) reason %s (%v), want %s", tc.p, err.Reason, err, tc.reason)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range validGeometries {
		f.Add([]byte(tc.in))
	}
	for _, tc := range invalidGeometries {
		f.Add([]byte(tc.in))
	}
	reasons := []geo.Reason{geo.ReasonInvalid, geo.ReasonUnsupported, geo.ReasonOutOfRange, geo.ReasonSwapped}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := geo.Decode(data)
		if err != nil {
			var ge *geo.Error
			if !errors.As(err, &ge) || !slices.Contains(reasons, ge.Reason) {
				t.Fatalf("Decode error %T %v has no known reason", err, err)
			}
			if g != nil {
				t.Fatalf("Decode returned both a geometry and %v", err)
			}
			return
		}
		if g.Layout() != geom.XY || len(g.FlatCoords()) < 2 || len(g.FlatCoords())%2 != 0 {
			t.Fatalf("accepted geometry has layout %v and %d coordinates", g.Layout(), len(g.FlatCoords()))
		}
		if b := geo.BoundsOf(g); !geo.World.Contains(b) {
			t.Fatalf("accepted geometry with bounds %v outside the world", b)
		}
		enc := geo.AppendGeoJSON(nil, g)
		if !json.Valid(enc) {
			t.Fatalf("re-encoding is not JSON: %s", enc)
		}
		g2, err := geo.Decode(enc)
		if err != nil {
			t.Fatalf("re-encoding %s of accepted %q is refused: %v", enc, data, err)
		}
		if a, b := shapeOf(g), shapeOf(g2); !a.equal(b) {
			t.Fatalf("round trip of %q changed the geometry\nbefore %+v\nafter  %+v", data, a, b)
		}
	})
}

// TestDecodeMalformedSequence feeds malformed objects, interleaved with good
// ones, the way a misbehaving gateway would. goccy/go-json reads past its
// buffer on a dangling escape in a key once its pooled buffers hold
// leftovers (goccy/go-json#604); Decode must return errors, never panic.
func TestDecodeMalformedSequence(t *testing.T) {
	bad := []string{`{"\`, `{"\0E\0`, `{"\B0\0`, `{"\c2\0`, `{"type\`, `{"\u00`, `{"coordinates":[1,2],"\`}
	good := validGeometries[len(validGeometries)-1].in
	for i := range 2000 {
		in := bad[i%len(bad)]
		if i%3 == 0 {
			in += strings.Repeat(" ", i%17) + good
		}
		if _, err := geo.Decode([]byte(in)); err == nil {
			t.Fatalf("Decode(%q) accepted it", in)
		}
		if _, err := geo.Decode([]byte(good)); err != nil {
			t.Fatalf("Decode(good) after %q: %v", in, err)
		}
	}
}
