package geo

import (
	"strconv"

	"github.com/twpayne/go-geom"
)

// AppendGeoJSON appends the GeoJSON encoding of g to dst. It writes
// coordinates with the shortest exact decimal form, so a value that went in
// comes out unchanged.
func AppendGeoJSON(dst []byte, g geom.T) []byte {
	switch g := g.(type) {
	case *geom.Point:
		dst = append(dst, `{"type":"Point","coordinates":`...)
		dst = appendPosition(dst, g.FlatCoords())
	case *geom.MultiPoint:
		dst = append(dst, `{"type":"MultiPoint","coordinates":`...)
		dst = appendLine(dst, g.FlatCoords())
	case *geom.LineString:
		dst = append(dst, `{"type":"LineString","coordinates":`...)
		dst = appendLine(dst, g.FlatCoords())
	case *geom.MultiLineString:
		dst = append(dst, `{"type":"MultiLineString","coordinates":`...)
		dst = appendLines(dst, g.FlatCoords(), 0, g.Ends())
	case *geom.Polygon:
		dst = append(dst, `{"type":"Polygon","coordinates":`...)
		dst = appendLines(dst, g.FlatCoords(), 0, g.Ends())
	case *geom.MultiPolygon:
		dst = append(dst, `{"type":"MultiPolygon","coordinates":[`...)
		start := 0
		for i, ends := range g.Endss() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendLines(dst, g.FlatCoords(), start, ends)
			if len(ends) > 0 {
				start = ends[len(ends)-1]
			}
		}
		dst = append(dst, ']')
	default:
		return append(dst, "null"...)
	}
	return append(dst, '}')
}

func appendPosition(dst []byte, xy []float64) []byte {
	dst = append(dst, '[')
	dst = strconv.AppendFloat(dst, xy[0], 'f', -1, 64)
	dst = append(dst, ',')
	dst = strconv.AppendFloat(dst, xy[1], 'f', -1, 64)
	return append(dst, ']')
}

func appendLine(dst []byte, flat []float64) []byte {
	dst = append(dst, '[')
	for i := 0; i+1 < len(flat); i += 2 {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPosition(dst, flat[i:i+2])
	}
	return append(dst, ']')
}

func appendLines(dst []byte, flat []float64, start int, ends []int) []byte {
	dst = append(dst, '[')
	for i, end := range ends {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendLine(dst, flat[start:end])
		start = end
	}
	return append(dst, ']')
}
