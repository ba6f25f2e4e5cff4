// Package clickhouse is the ClickHouse history store: replay.Store over the
// native protocol with github.com/ClickHouse/clickhouse-go/v2. It runs on
// Debian's ClickHouse 18.16 and on current releases; the schema (schema.sql,
// embedded and applied at Open) avoids DateTime64, TTL, JSON, Map and
// LowCardinality, and every INSERT names its columns.
//
// Layout (see schema.sql, version 2): records (ReplacingMergeTree, ORDER BY
// layer, id, time, ...: per-entity scans), timeline (the same records in
// full, fed by a materialized view, ORDER BY layer, time, ...: the StateAt
// fold, keyframes and replay's time-range scans, with no join back to
// records), keyframes, keyframe_entries (records in full) and
// keyframe_drops, schema_version. Open upgrades a version-1 database by
// rebuilding the derived tables from records.
//
// Guarantees, as far as ClickHouse allows:
//   - Append sends one INSERT block. ClickHouse writes a block atomically per
//     partition (month), and the timeline rows through the materialized view
//     right after; a failed Append may thus leave part of a batch stored.
//     Because appending the same records again overwrites them (records and
//     timeline are ReplacingMergeTree, read with FINAL or through argMax on
//     the full key), retrying the batch, as replay.Writer does, completes it
//     without duplicates: all-or-none holds once a retry succeeds.
//   - Keyframes follow the embedded store's rule: an append holding a record
//     observed at or before a keyframe voids that keyframe (a keyframe_drops
//     row), so keyframes never change an answer. Voiding compares the drop's
//     and the keyframe's wall-clock times in ns: writers on several hosts
//     need synchronized clocks.
//
// A cluster variant (ReplicatedMergeTree tables behind Distributed ones) is
// a later issue.
package clickhouse

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
)

// SchemaVersion is the version of schema.sql; Open records it in
// schema_version.
const SchemaVersion = 2

//go:embed schema.sql
var schemaSQL string

// Schema returns the schema statements for database db, in order.
func Schema(db string) []string {
	var out []string
	for _, stmt := range strings.Split(schemaSQL, "\n;\n") {
		var lines []string
		for _, l := range strings.Split(stmt, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		if s := strings.TrimSpace(strings.Join(lines, "\n")); s != "" && s != ";" {
			out = append(out, strings.ReplaceAll(s, "{db}", db))
		}
	}
	return out
}

// TuneWriter returns cfg set up for feeding this store. ClickHouse wants
// few, large inserts (about one per second per table, of 10,000 to 100,000
// rows): the writer reads the change log every second and appends all that
// is unread in batches of up to 100,000 records, so under load an insert
// holds what arrived while the previous one ran. A batch that large can take
// several seconds on a busy machine, so an append may take 30 s before it
// counts as failed (and is spooled and retried).
func TuneWriter(cfg replay.WriterConfig) replay.WriterConfig {
	cfg.Interval, cfg.BatchSize, cfg.AppendTimeout = time.Second, 100000, 30*time.Second
	return cfg
}

// Config selects the server and database.
type Config struct {
	Addr     string // host:port of the native protocol (9000 by default)
	Database string // created if missing; default "ioc"
	Username string // default "default"
	Password string
	// DialTimeout bounds connecting (default 5 s).
	DialTimeout time.Duration
}

// Store is a replay.Store on one ClickHouse database.
type Store struct {
	conn driver.Conn
	db   string
}

var _ replay.Store = (*Store)(nil)

var dbName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Open connects, creates the database and tables if needed and records the
// schema version.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Database == "" {
		cfg.Database = "ioc"
	}
	if !dbName.MatchString(cfg.Database) {
		return nil, fmt.Errorf("history: clickhouse database name %q: use letters, digits and _", cfg.Database)
	}
	if cfg.Username == "" {
		cfg.Username = "default"
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	// The connection uses the server's default database: ours may not
	// exist yet. Queries name their tables in full.
	conn, err := ch.Open(&ch.Options{
		Addr:        []string{cfg.Addr},
		Protocol:    ch.Native,
		Auth:        ch.Auth{Username: cfg.Username, Password: cfg.Password},
		DialTimeout: cfg.DialTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("history: clickhouse %s: %w", cfg.Addr, err)
	}
	s := &Store{conn: conn, db: cfg.Database}
	if err := s.migrate(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	v, err := s.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if v > SchemaVersion {
		return fmt.Errorf("history: clickhouse database %s has schema version %d, newer than this server's %d", s.db, v, SchemaVersion)
	}
	if v == 1 {
		if err := s.dropDerived(ctx); err != nil {
			return err
		}
	}
	for _, stmt := range Schema(s.db) {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("history: clickhouse schema: %w", err)
		}
	}
	if v == 1 {
		if err := s.rebuildTimeline(ctx); err != nil {
			return err
		}
	}
	if v < SchemaVersion {
		err := s.insertRow(ctx, "schema_version (version, applied_ms)", uint32(SchemaVersion), time.Now().UnixMilli())
		if err != nil {
			return fmt.Errorf("history: clickhouse schema version: %w", err)
		}
	}
	return nil
}

// schemaVersion reads the version recorded in the database, 0 when there is
// none yet.
func (s *Store) schemaVersion(ctx context.Context) (uint32, error) {
	var n uint64
	err := s.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = 'schema_version'", s.db).Scan(&n)
	if err != nil || n == 0 {
		return 0, wrapSchema(err)
	}
	var v uint32
	err = s.conn.QueryRow(ctx, "SELECT max(version) FROM "+s.t("schema_version")).Scan(&v)
	return v, wrapSchema(err)
}

func wrapSchema(err error) error {
	if err != nil {
		return fmt.Errorf("history: clickhouse schema version: %w", err)
	}
	return nil
}

// derivedTables are built from records alone; version 1 of the schema had
// narrower ones, so a version-1 database drops them and rebuilds timeline
// (keyframes come back as the writer asks for them). A crash in between
// leaves version 1 recorded, and the next Open starts over.
var derivedTables = []string{"timeline_mv", "timeline", "keyframes", "keyframe_entries", "keyframe_drops"}

func (s *Store) dropDerived(ctx context.Context) error {
	for _, t := range derivedTables {
		if err := s.conn.Exec(ctx, "DROP TABLE IF EXISTS "+s.t(t)); err != nil {
			return fmt.Errorf("history: clickhouse schema upgrade from version 1, dropping %s: %w", t, err)
		}
	}
	return nil
}

func (s *Store) rebuildTimeline(ctx context.Context) error {
	err := s.conn.Exec(ctx, "INSERT INTO "+s.t("timeline")+" ("+timelineCols+") SELECT "+
		"layer, time, server_time, seq, epoch, id, toInt8(if(op = 'delete', -1, if(geometry != '', 1, 0))), "+
		"op, stale, geometry, properties, area, min_x, min_y, max_x, max_y, ver FROM "+s.t("records"))
	if err != nil {
		return fmt.Errorf("history: clickhouse schema upgrade from version 1, rebuilding timeline: %w", err)
	}
	return nil
}

const timelineCols = "layer, time, server_time, seq, epoch, id, kind, op, stale, geometry, properties, area, min_x, min_y, max_x, max_y, ver"

// insertRow inserts one row as a one-row batch: an INSERT ... VALUES with
// bound arguments through Exec hangs on ClickHouse 18.16.
func (s *Store) insertRow(ctx context.Context, tableCols string, values ...any) error {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+"."+tableCols)
	if err != nil {
		return err
	}
	if err := batch.Append(values...); err != nil {
		_ = batch.Abort()
		return err
	}
	return batch.Send()
}

func (s *Store) t(table string) string { return s.db + "." + table }

// Close closes the connections.
func (s *Store) Close() error { return s.conn.Close() }

func ms(t time.Time) int64 { return replay.MS(t).UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

const recordCols = "layer, id, time, server_time, seq, epoch, op, stale, geometry, properties, area, min_x, min_y, max_x, max_y"

// Append sends recs as one INSERT block, then voids the keyframes it
// invalidates.
func (s *Store) Append(ctx context.Context, recs []replay.Record) error {
	if len(recs) == 0 {
		return ctx.Err()
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.t("records")+" ("+recordCols+", ver)")
	if err != nil {
		return fmt.Errorf("history: clickhouse append: %w", err)
	}
	cols := columnsOf(recs, uint64(time.Now().UnixNano()))
	for i, c := range cols.values() {
		if err := batch.Column(i).Append(c); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("history: clickhouse append, column %d of %q: %w", i, recordCols+", ver", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("history: clickhouse append: %w", err)
	}
	return s.dropKeyframesFrom(ctx, cols.oldest)
}

// columns holds a batch of records column by column, in the order of
// recordCols then ver. Appending whole columns costs the driver one type
// switch per column instead of reflection per value, which is most of the
// client's CPU in a row-by-row append of a large batch.
type columns struct {
	layer, id, op, epoch, area []string
	time, server               []int64
	seq, ver                   []uint64
	stale                      []uint8
	geometry, properties       []json.RawMessage
	minX, minY, maxX, maxY     []float64
	oldest                     int64 // the smallest time, ms
}

func columnsOf(recs []replay.Record, ver uint64) *columns {
	n := len(recs)
	c := &columns{
		layer: make([]string, n), id: make([]string, n), op: make([]string, n), epoch: make([]string, n),
		area: make([]string, n), time: make([]int64, n), server: make([]int64, n), seq: make([]uint64, n),
		ver: make([]uint64, n), stale: make([]uint8, n), geometry: make([]json.RawMessage, n),
		properties: make([]json.RawMessage, n), minX: make([]float64, n), minY: make([]float64, n),
		maxX: make([]float64, n), maxY: make([]float64, n), oldest: ms(recs[0].Time),
	}
	for i := range recs {
		r := &recs[i]
		t := ms(r.Time)
		c.oldest = min(c.oldest, t)
		c.layer[i], c.id[i], c.op[i], c.epoch[i], c.area[i] = r.Layer, r.ID, string(r.Op), r.Epoch, r.Area
		c.time[i], c.server[i], c.seq[i], c.ver[i] = t, ms(r.Server), r.Seq, ver
		if r.Stale {
			c.stale[i] = 1
		}
		c.geometry[i], c.properties[i] = r.Geometry, r.Properties
		c.minX[i], c.minY[i], c.maxX[i], c.maxY[i] = r.BBox[0], r.BBox[1], r.BBox[2], r.BBox[3]
	}
	return c
}

// values returns the columns in the order of recordCols, then ver.
func (c *columns) values() []any {
	return []any{c.layer, c.id, c.time, c.server, c.seq, c.epoch, c.op, c.stale, c.geometry, c.properties,
		c.area, c.minX, c.minY, c.maxX, c.maxY, c.ver}
}

// dropKeyframesFrom voids the keyframes at or after t, including one being
// built now: Keyframe registers itself before it folds, so either its fold
// sees the records just inserted or this check sees the keyframe.
func (s *Store) dropKeyframesFrom(ctx context.Context, t int64) error {
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.t("keyframes")+" WHERE at >= ?", t).Scan(&n); err != nil {
		return fmt.Errorf("history: clickhouse keyframes: %w", err)
	}
	if n == 0 {
		return nil
	}
	err := s.insertRow(ctx, "keyframe_drops (from_time, at_ns)", t, uint64(time.Now().UnixNano()))
	if err != nil {
		return fmt.Errorf("history: clickhouse keyframes: %w", err)
	}
	return nil
}

// timeRange adds the [from, to) conditions on column time.
func timeRange(where []string, args []any, from, to time.Time) ([]string, []any) {
	if !from.IsZero() {
		where, args = append(where, "time >= ?"), append(args, ms(from))
	}
	if !to.IsZero() {
		where, args = append(where, "time < ?"), append(args, ms(to))
	}
	return where, args
}

// History reads the entity's records, deduplicated (FINAL).
func (s *Store) History(ctx context.Context, layer, id string, from, to time.Time, limit int) ([]replay.Record, error) {
	where, args := timeRange([]string{"layer = ?", "id = ?"}, []any{layer, id}, from, to)
	q := "SELECT " + recordCols + " FROM " + s.t("records") + " FINAL WHERE " + strings.Join(where, " AND ") +
		" ORDER BY time, server_time, seq, epoch"
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return s.records(ctx, q, args...)
}

func (s *Store) records(ctx context.Context, q string, args ...any) ([]replay.Record, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("history: clickhouse: %w", err)
	}
	defer rows.Close()
	out := []replay.Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: clickhouse: %w", err)
	}
	return out, nil
}

// scanRecord reads one row of recordCols.
func scanRecord(rows driver.Rows) (replay.Record, error) {
	var (
		r               replay.Record
		t, st           int64
		op, geom, props string
		stale           uint8
	)
	err := rows.Scan(&r.Layer, &r.ID, &t, &st, &r.Seq, &r.Epoch, &op, &stale, &geom, &props, &r.Area,
		&r.BBox[0], &r.BBox[1], &r.BBox[2], &r.BBox[3])
	if err != nil {
		return r, fmt.Errorf("history: clickhouse: %w", err)
	}
	r.Time, r.Server, r.Op, r.Stale = fromMS(t), fromMS(st), replay.Op(op), stale != 0
	if geom != "" {
		r.Geometry = json.RawMessage(geom)
	}
	if props != "" {
		r.Properties = json.RawMessage(props)
	}
	return r, nil
}

// Series aggregates with replay.SeriesAgg over the entity's records, so that
// it buckets exactly as the embedded store does.
func (s *Store) Series(ctx context.Context, layer, id, property string, from, to time.Time, step time.Duration) ([]replay.Bucket, error) {
	if step <= 0 {
		return nil, errors.New("history: series step must be positive")
	}
	where, args := timeRange([]string{"layer = ?", "id = ?", "op IN ('upsert', 'late')"}, []any{layer, id}, from, to)
	rows, err := s.conn.Query(ctx, "SELECT time, op, properties FROM "+s.t("records")+" FINAL WHERE "+
		strings.Join(where, " AND ")+" ORDER BY time, server_time, seq, epoch", args...)
	if err != nil {
		return nil, fmt.Errorf("history: clickhouse: %w", err)
	}
	defer rows.Close()
	agg := replay.NewSeries(from, step)
	for rows.Next() {
		var (
			t         int64
			op, props string
		)
		if err := rows.Scan(&t, &op, &props); err != nil {
			return nil, fmt.Errorf("history: clickhouse: %w", err)
		}
		r := replay.Record{Time: fromMS(t), Op: replay.Op(op), Properties: json.RawMessage(props)}
		agg.Add(&r, property)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: clickhouse: %w", err)
	}
	return agg.Buckets(), nil
}

// StateAt folds, in one query, the nearest valid keyframe at or before at
// and the timeline after it. Both carry records in full, so the answer needs
// no lookup in records: the query reads one keyframe's entries and the
// timeline rows since it, pruned by the (layer, time) key.
func (s *Store) StateAt(ctx context.Context, at time.Time, names []string, bbox geo.Rect) ([]replay.Record, error) {
	atMS := ms(at)
	kfAt, kfGen, ok, err := s.keyframeAt(ctx, atMS)
	if err != nil {
		return nil, err
	}
	fold, args := s.fold(atMS, kfAt, kfGen, ok, names)
	q := "SELECT layer, id, " + lastCols + " FROM (" + fold + ")" +
		" WHERE last.1 = 1 AND last.11 <= ? AND ? <= last.13 AND last.12 <= ? AND ? <= last.14" +
		" ORDER BY layer, id"
	args = append(args, bbox.MaxX, bbox.MinX, bbox.MaxY, bbox.MinY)
	return s.records(ctx, q, args...)
}

// lastCols reads a fold's last tuple in the order of recordCols after
// layer and id.
const lastCols = "last.2, last.3, last.4, last.5, last.6, last.7, last.8, last.9, last.10, last.11, last.12, last.13, last.14"

// foldCols are the columns a fold carries per record, kind first; the
// record's key and ver order them.
const (
	foldCols = "kind, time, server_time, seq, epoch, op, stale, geometry, properties, area, min_x, min_y, max_x, max_y, ver"
	foldKey  = "tuple(time, server_time, seq, epoch, ver)"
)

// fold returns a query of (layer, id, last) per entity: last is the tuple of
// foldCols of its latest record at or before at (the latest append of it,
// should a retried batch have stored it twice). A keyframe's entries count
// as kind 1; late deletes (kind 0) are left out.
func (s *Store) fold(at, kfAt int64, kfGen uint64, useKF bool, names []string) (string, []any) {
	layerCond := ""
	var largs []any
	if len(names) > 0 {
		layerCond = " AND layer IN (?" + strings.Repeat(", ?", len(names)-1) + ")"
		for _, n := range names {
			largs = append(largs, n)
		}
	}
	src := "SELECT layer, id, " + foldCols + " FROM " + s.t("timeline") +
		" WHERE time > ? AND time <= ? AND kind != 0" + layerCond
	args := append([]any{kfAt, at}, largs...)
	if !useKF {
		args[0] = int64(-1 << 63)
	} else {
		src += " UNION ALL SELECT layer, id, toInt8(1) AS kind, time, server_time, seq, epoch, op, stale, geometry, properties, area," +
			" min_x, min_y, max_x, max_y, ver FROM " + s.t("keyframe_entries") + " WHERE at = ? AND gen = ?" + layerCond
		args = append(append(args, kfAt, kfGen), largs...)
	}
	q := "SELECT layer, id, argMax(tuple(" + foldCols + "), " + foldKey + ") AS last" +
		" FROM (" + src + ") GROUP BY layer, id"
	return q, args
}

// keyframeAt finds the latest complete keyframe at or before at that no
// later append voided.
func (s *Store) keyframeAt(ctx context.Context, at int64) (int64, uint64, bool, error) {
	rows, err := s.conn.Query(ctx, "SELECT at, gen FROM "+s.t("keyframes")+" WHERE at <= ?"+
		" GROUP BY at, gen HAVING max(done) = 1 ORDER BY at DESC, gen DESC LIMIT 32", at)
	if err != nil {
		return 0, 0, false, fmt.Errorf("history: clickhouse keyframes: %w", err)
	}
	type kf struct {
		at  int64
		gen uint64
	}
	var cands []kf
	for rows.Next() {
		var k kf
		if err := rows.Scan(&k.at, &k.gen); err != nil {
			rows.Close()
			return 0, 0, false, fmt.Errorf("history: clickhouse keyframes: %w", err)
		}
		cands = append(cands, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, false, fmt.Errorf("history: clickhouse keyframes: %w", err)
	}
	if len(cands) == 0 {
		return 0, 0, false, nil
	}
	minGen := cands[0].gen
	for _, c := range cands {
		minGen = min(minGen, c.gen)
	}
	type drop struct {
		from int64
		at   uint64
	}
	var drops []drop
	rows, err = s.conn.Query(ctx, "SELECT from_time, at_ns FROM "+s.t("keyframe_drops")+
		" WHERE at_ns >= ? AND from_time <= ?", minGen, cands[0].at)
	if err != nil {
		return 0, 0, false, fmt.Errorf("history: clickhouse keyframes: %w", err)
	}
	for rows.Next() {
		var d drop
		if err := rows.Scan(&d.from, &d.at); err != nil {
			rows.Close()
			return 0, 0, false, fmt.Errorf("history: clickhouse keyframes: %w", err)
		}
		drops = append(drops, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, false, fmt.Errorf("history: clickhouse keyframes: %w", err)
	}
next:
	for _, c := range cands {
		for _, d := range drops {
			if d.from <= c.at && d.at >= c.gen {
				continue next
			}
		}
		return c.at, c.gen, true, nil
	}
	return 0, 0, false, nil
}

// Keyframe registers a keyframe at at, folds the history up to at into
// keyframe_entries on the server (INSERT ... SELECT) and marks it done.
func (s *Store) Keyframe(ctx context.Context, at time.Time) error {
	atMS := ms(at)
	gen := uint64(time.Now().UnixNano())
	mark := func(done uint8) error {
		return s.insertRow(ctx, "keyframes (at, gen, done)", atMS, gen, done)
	}
	if err := mark(0); err != nil {
		return fmt.Errorf("history: clickhouse keyframe: %w", err)
	}
	prevAt, prevGen, ok, err := s.keyframeAt(ctx, atMS)
	if err != nil {
		return err
	}
	fold, args := s.fold(atMS, prevAt, prevGen, ok, nil)
	q := "INSERT INTO " + s.t("keyframe_entries") + " (at, gen, layer, id, " + recordCols[len("layer, id, "):] + ", ver)" +
		" SELECT ?, ?, layer, id, " + lastCols + ", last.15 FROM (" + fold + ") WHERE last.1 = 1"
	if err := s.conn.Exec(ctx, q, append([]any{atMS, gen}, args...)...); err != nil {
		return fmt.Errorf("history: clickhouse keyframe: %w", err)
	}
	if err := mark(1); err != nil {
		return fmt.Errorf("history: clickhouse keyframe: %w", err)
	}
	return nil
}

// Range streams the records of the layers with from < time <= to in history
// order, row by row as the server sends its blocks. It reads timeline,
// whose (layer, time) key prunes the range in every layer, and the server
// merges the layers into history order. bbox is not used: see
// replay.Store. When fn stops the scan, the query is cancelled rather than
// drained.
func (s *Store) Range(ctx context.Context, from, to time.Time, names []string, _ geo.Rect, fn func(replay.Record) error) error {
	var (
		where []string
		args  []any
	)
	if !from.IsZero() {
		where, args = append(where, "time > ?"), append(args, ms(from))
	}
	if !to.IsZero() {
		where, args = append(where, "time <= ?"), append(args, ms(to))
	}
	if len(names) > 0 {
		where = append(where, "layer IN (?"+strings.Repeat(", ?", len(names)-1)+")")
		for _, n := range names {
			args = append(args, n)
		}
	}
	// No FINAL, which merges every part's rows on one thread: copies of a
	// record stored twice (a retried batch) arrive next to each other, the
	// latest append last, and only that one is passed on.
	q := "SELECT " + recordCols + " FROM " + s.t("timeline")
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time, server_time, seq, epoch, layer, id, ver"
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := s.conn.Query(qctx, q, args...)
	if err != nil {
		return fmt.Errorf("history: clickhouse: %w", err)
	}
	var held replay.Record
	have := false
	for rows.Next() {
		r, err := scanRecord(rows)
		if err == nil && have && !sameRecord(&held, &r) {
			err = fn(held)
		}
		if err != nil {
			cancel() // stop the server instead of reading the rest
			_ = rows.Close()
			return err
		}
		held, have = r, true
	}
	if have && rows.Err() == nil {
		if err := fn(held); err != nil {
			_ = rows.Close()
			return err
		}
	}
	err = rows.Err()
	_ = rows.Close()
	if err != nil {
		return fmt.Errorf("history: clickhouse: %w", err)
	}
	return ctx.Err()
}

// sameRecord reports whether a and b are copies of one record: the same
// key (layer, id, time, server time, seq, epoch).
func sameRecord(a, b *replay.Record) bool {
	return a.Seq == b.Seq && a.Time.Equal(b.Time) && a.Server.Equal(b.Server) &&
		a.ID == b.ID && a.Layer == b.Layer && a.Epoch == b.Epoch
}
