package areas

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"reflect"
	"strconv"
	"strings"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

// FileError says what is wrong in an area file and where: a JSON path such
// as "features[3].geometry.coordinates[0][2]", or a line and column.
type FileError struct {
	File  string
	Where string
	Msg   string
}

func (e *FileError) Error() string {
	if e.Where == "" {
		return "areas: " + e.File + ": " + e.Msg
	}
	return "areas: " + e.File + ": " + e.Where + ": " + e.Msg
}

// Load reads area files and builds a Set from them alone. A file is either
// a GeoJSON FeatureCollection (any name) or, when its name ends in .csv,
// an old-ward table. Features are recognised by their properties:
//
//   - ward_code_2025 or ward_code: a ward (Point, Polygon or MultiPolygon),
//     with name, optional name_short, geo_suspect, old_ward_codes,
//     district_codes and district_code (its districts);
//   - otherwise district_code: a district (Polygon or MultiPolygon), with
//     name and optional name_short.
//
// An old-ward table is a CSV with a header naming at least the columns
// district_code and ward_code; rows without a ward_code are skipped. A
// feature whose code was loaded from an earlier file replaces it, so a
// later file can correct or extend the data.
func Load(paths ...string) (*Set, error) {
	b := newBuilder()
	if err := b.addPaths(paths...); err != nil {
		return nil, err
	}
	return b.build()
}

func (b *builder) addPaths(paths ...string) error {
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("areas: %w", err)
		}
		if err := b.addFile(p, data); err != nil {
			return err
		}
	}
	return nil
}

// LoadFS is Load for files in fsys.
func LoadFS(fsys fs.FS, names ...string) (*Set, error) {
	b := newBuilder()
	if err := b.addFS(fsys, names...); err != nil {
		return nil, err
	}
	return b.build()
}

func (b *builder) addFS(fsys fs.FS, names ...string) error {
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("areas: %w", err)
		}
		if err := b.addFile(name, data); err != nil {
			return err
		}
	}
	return nil
}

// builder collects the files' contents before they are resolved into a Set.
type builder struct {
	districts  []districtRec
	districtAt map[string]int
	wards      []wardRec
	wardAt     map[string]int
	oldWard    map[string]string // old ward code → district code
}

type districtRec struct {
	info Info
	g    geom.T
}

type wardRec struct {
	info      WardInfo
	g         geom.T
	oldCodes  []string
	districts []string // explicit district codes
	file      string
	where     string
}

func newBuilder() *builder {
	return &builder{districtAt: map[string]int{}, wardAt: map[string]int{}, oldWard: map[string]string{}}
}

func (b *builder) addFile(name string, data []byte) error {
	if strings.EqualFold(path.Ext(name), ".csv") {
		return b.addTable(name, data)
	}
	return b.addCollection(name, data)
}

// rawCollection and rawFeature are the wire shapes of GeoJSON.
type rawCollection struct {
	Type     string            `json:"type"`
	Features []json.RawMessage `json:"features"`
}

type rawFeature struct {
	Type       string          `json:"type"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// rawProps are the properties areas reads; others are ignored.
type rawProps struct {
	DistrictCode  code   `json:"district_code"`
	WardCode2025  code   `json:"ward_code_2025"`
	WardCode      code   `json:"ward_code"`
	Name          string `json:"name"`
	NameShort     string `json:"name_short"`
	GeoSuspect    bool   `json:"geo_suspect"`
	OldWardCodes  []code `json:"old_ward_codes"`
	DistrictCodes []code `json:"district_codes"`
}

// code is an area code given as a JSON string or integer.
type code string

func (c *code) UnmarshalJSON(data []byte) error {
	switch {
	case bytes.Equal(data, []byte("null")):
		return nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*c = code(strings.TrimSpace(s))
		return nil
	}
	if _, err := strconv.ParseUint(string(data), 10, 64); err != nil {
		// A type error gets the property's path from encoding/json.
		return &json.UnmarshalTypeError{Value: string(data), Type: reflect.TypeFor[code]()}
	}
	*c = code(data)
	return nil
}

func (b *builder) addCollection(file string, data []byte) error {
	var fc rawCollection
	if err := json.Unmarshal(data, &fc); err != nil {
		return jsonError(file, "", data, err)
	}
	if fc.Type != "FeatureCollection" {
		return &FileError{File: file, Where: "type", Msg: fmt.Sprintf("want a GeoJSON FeatureCollection, found type %q", fc.Type)}
	}
	if len(fc.Features) == 0 {
		return &FileError{File: file, Where: "features", Msg: "no features"}
	}
	seen := map[string]string{}
	for i, raw := range fc.Features {
		where := "features[" + strconv.Itoa(i) + "]"
		if err := b.addFeature(file, where, raw, seen); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) addFeature(file, where string, raw []byte, seen map[string]string) error {
	var f rawFeature
	if err := json.Unmarshal(raw, &f); err != nil {
		return jsonError(file, where, raw, err)
	}
	if f.Type != "Feature" {
		return &FileError{File: file, Where: where + ".type", Msg: fmt.Sprintf("want a Feature, found type %q", f.Type)}
	}
	var p rawProps
	if err := json.Unmarshal(f.Properties, &p); err != nil || bytes.Equal(bytes.TrimSpace(f.Properties), []byte("null")) {
		if err == nil {
			err = errors.New("no properties: a feature needs a district_code or a ward code")
		}
		return jsonError(file, where+".properties", f.Properties, err)
	}
	kind, c := "district", string(p.DistrictCode)
	if wc := firstCode(p.WardCode2025, p.WardCode); wc != "" {
		kind, c = "ward", wc
	}
	switch {
	case c == "":
		return &FileError{File: file, Where: where + ".properties", Msg: "no district_code, ward_code_2025 or ward_code: cannot tell what area this is"}
	case strings.TrimSpace(p.Name) == "":
		return &FileError{File: file, Where: where + ".properties.name", Msg: "missing name for " + kind + " " + c}
	case seen[kind+c] != "":
		return &FileError{File: file, Where: where, Msg: fmt.Sprintf("%s code %s already used by %s", kind, c, seen[kind+c])}
	}
	seen[kind+c] = where
	g, err := decodeGeometry(file, where, f.Geometry, kind == "ward")
	if err != nil {
		return err
	}
	if kind == "district" {
		b.addDistrict(districtRec{info: Info{Code: c, Name: p.Name, ShortName: shortName(p), Bounds: geo.BoundsOf(g)}, g: g})
		return nil
	}
	b.addWard(wardRec{
		info:      WardInfo{Code: c, Name: p.Name, ShortName: shortName(p), Bounds: geo.BoundsOf(g), Suspect: p.GeoSuspect},
		g:         g,
		oldCodes:  codes(p.OldWardCodes),
		districts: codes(append(p.DistrictCodes, p.DistrictCode)),
		file:      file,
		where:     where + ".properties",
	})
	return nil
}

func decodeGeometry(file, where string, raw json.RawMessage, pointOK bool) (geom.T, error) {
	where += ".geometry"
	if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, &FileError{File: file, Where: where, Msg: "missing geometry"}
	}
	g, err := geo.Decode(raw)
	if err != nil {
		var ge *geo.Error
		if errors.As(err, &ge) && ge.Path != "" {
			return nil, &FileError{File: file, Where: where + "." + ge.Path, Msg: ge.Msg}
		}
		return nil, &FileError{File: file, Where: where, Msg: err.Error()}
	}
	switch g.(type) {
	case *geom.Polygon, *geom.MultiPolygon:
		return g, nil
	case *geom.Point:
		if pointOK {
			return g, nil
		}
	}
	want := "Polygon or MultiPolygon"
	if pointOK {
		want = "Point, Polygon or MultiPolygon"
	}
	return nil, &FileError{File: file, Where: where + ".type", Msg: fmt.Sprintf("want a %s, found %T", want, g)}
}

func (b *builder) addDistrict(r districtRec) {
	if i, ok := b.districtAt[r.info.Code]; ok {
		b.districts[i] = r
		return
	}
	b.districtAt[r.info.Code] = len(b.districts)
	b.districts = append(b.districts, r)
}

func (b *builder) addWard(r wardRec) {
	if i, ok := b.wardAt[r.info.Code]; ok {
		b.wards[i] = r
		return
	}
	b.wardAt[r.info.Code] = len(b.wards)
	b.wards = append(b.wards, r)
}

func shortName(p rawProps) string {
	if s := strings.TrimSpace(p.NameShort); s != "" {
		return s
	}
	return p.Name
}

func firstCode(cs ...code) string {
	for _, c := range cs {
		if c != "" {
			return string(c)
		}
	}
	return ""
}

func codes(cs []code) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		if c != "" {
			out = append(out, string(c))
		}
	}
	return out
}

// addTable reads an old-ward table: old ward code → district code.
func (b *builder) addTable(file string, data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return &FileError{File: file, Where: "line 1", Msg: "cannot read the header: " + csvErrorText(err)}
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	di, okD := col["district_code"]
	wi, okW := col["ward_code"]
	if !okD || !okW {
		return &FileError{File: file, Where: "line 1", Msg: "header needs the columns district_code and ward_code"}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &FileError{File: file, Msg: csvErrorText(err)}
		}
		line, _ := r.FieldPos(0)
		if wi >= len(rec) || di >= len(rec) {
			return &FileError{File: file, Where: "line " + strconv.Itoa(line), Msg: fmt.Sprintf("has %d fields, too few for district_code and ward_code", len(rec))}
		}
		w, d := strings.TrimSpace(rec[wi]), strings.TrimSpace(rec[di])
		if w == "" {
			continue
		}
		if d == "" {
			return &FileError{File: file, Where: "line " + strconv.Itoa(line), Msg: "ward " + w + " has no district_code"}
		}
		b.oldWard[w] = d
	}
}

// csvErrorText keeps the line and column encoding/csv reports.
func csvErrorText(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	}
	return err.Error()
}

// jsonError turns a JSON error into a FileError with a line and column for
// syntax errors and a JSON path for type errors.
func jsonError(file, where string, data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, colm := lineCol(data, se.Offset)
		pos := fmt.Sprintf("line %d, column %d", line, colm)
		if where != "" {
			pos = where + " (" + pos + " of that value)"
		}
		return &FileError{File: file, Where: pos, Msg: "invalid JSON: " + se.Error()}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		w := where
		if te.Field != "" {
			w = joinPath(where, te.Field)
		}
		return &FileError{File: file, Where: w, Msg: fmt.Sprintf("want %s, found JSON %s", typeName(te.Type.String()), te.Value)}
	}
	if where == "" && errors.Is(err, io.ErrUnexpectedEOF) {
		return &FileError{File: file, Msg: "invalid JSON: unexpected end of file"}
	}
	return &FileError{File: file, Where: where, Msg: err.Error()}
}

func joinPath(where, field string) string {
	if where == "" {
		return field
	}
	return where + "." + field
}

func typeName(t string) string {
	switch t {
	case "string":
		return "a string"
	case "areas.code":
		return "a code (string or whole number)"
	case "areas.rawCollection":
		return "a GeoJSON FeatureCollection object"
	case "areas.rawFeature":
		return "a GeoJSON Feature object"
	case "areas.rawProps":
		return "a properties object"
	case "bool":
		return "true or false"
	case "[]areas.code", "[]string":
		return "an array of codes"
	case "[]json.RawMessage":
		return "an array"
	}
	return "a " + t
}

// lineCol converts a byte offset to a 1-based line and column.
func lineCol(data []byte, offset int64) (int, int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	return line, int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
}
