// Package clickhouse is the ClickHouse history store: replay.Store over the
// native protocol with github.com/ClickHouse/clickhouse-go/v2. It runs on
// Debian's ClickHouse 18.16 and on current releases; the schema (schema.sql,
// embedded and applied at Open) avoids DateTime64, TTL, JSON, Map and
// LowCardinality, and every INSERT names its columns.
//
// Layout (see schema.sql): records (ReplacingMergeTree, ORDER BY layer, id,
// time, ...: per-entity scans), timeline (fed by a materialized view, ORDER
// BY layer, time, ...: the StateAt fold and time-range scans per layer),
// keyframes, keyframe_entries and keyframe_drops (keyframes), schema_version.
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
const SchemaVersion = 1

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
	for _, stmt := range Schema(s.db) {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("history: clickhouse schema: %w", err)
		}
	}
	var v uint32
	if err := s.conn.QueryRow(ctx, "SELECT max(version) FROM "+s.t("schema_version")).Scan(&v); err != nil {
		return fmt.Errorf("history: clickhouse schema version: %w", err)
	}
	switch {
	case v > SchemaVersion:
		return fmt.Errorf("history: clickhouse database %s has schema version %d, newer than this server's %d", s.db, v, SchemaVersion)
	case v < SchemaVersion:
		err := s.insertRow(ctx, "schema_version (version, applied_ms)", uint32(SchemaVersion), time.Now().UnixMilli())
		if err != nil {
			return fmt.Errorf("history: clickhouse schema version: %w", err)
		}
	}
	return nil
}

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
	ver := uint64(time.Now().UnixNano())
	oldest := ms(recs[0].Time)
	for i := range recs {
		r := &recs[i]
		t := ms(r.Time)
		oldest = min(oldest, t)
		stale := uint8(0)
		if r.Stale {
			stale = 1
		}
		err := batch.Append(r.Layer, r.ID, t, ms(r.Server), r.Seq, r.Epoch, string(r.Op), stale,
			string(r.Geometry), string(r.Properties), r.Area, r.BBox[0], r.BBox[1], r.BBox[2], r.BBox[3], ver)
		if err != nil {
			_ = batch.Abort()
			return fmt.Errorf("history: clickhouse append %s/%s: %w", r.Layer, r.ID, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("history: clickhouse append: %w", err)
	}
	return s.dropKeyframesFrom(ctx, oldest)
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
// and the timeline after it, then reads the winning records.
func (s *Store) StateAt(ctx context.Context, at time.Time, names []string, bbox geo.Rect) ([]replay.Record, error) {
	atMS := ms(at)
	kfAt, kfGen, ok, err := s.keyframeAt(ctx, atMS)
	if err != nil {
		return nil, err
	}
	fold, args := s.fold(atMS, kfAt, kfGen, ok, names)
	q := "SELECT " + recordCols + " FROM " + s.t("records") + " FINAL" +
		" WHERE (layer, id, time, server_time, seq, epoch) IN (" +
		"SELECT layer, id, k.1, k.2, k.3, k.4 FROM (" + fold + ")" +
		" WHERE last.1 = 1 AND last.2 <= ? AND ? <= last.4 AND last.3 <= ? AND ? <= last.5)" +
		" ORDER BY layer, id"
	args = append(args, bbox.MaxX, bbox.MinX, bbox.MaxY, bbox.MinY)
	return s.records(ctx, q, args...)
}

// fold returns a query of (layer, id, k, last) per entity: k the key of its
// latest record at or before at, last (kind, min_x, min_y, max_x, max_y) of
// that record. A keyframe's entries count as kind 1.
func (s *Store) fold(at, kfAt int64, kfGen uint64, useKF bool, names []string) (string, []any) {
	layerCond := ""
	var largs []any
	if len(names) > 0 {
		layerCond = " AND layer IN (?" + strings.Repeat(", ?", len(names)-1) + ")"
		for _, n := range names {
			largs = append(largs, n)
		}
	}
	src := "SELECT layer, id, time, server_time, seq, epoch, kind, min_x, min_y, max_x, max_y FROM " + s.t("timeline") +
		" WHERE time > ? AND time <= ?" + layerCond
	args := append([]any{kfAt, at}, largs...)
	if !useKF {
		args[0] = int64(-1 << 63)
	} else {
		src += " UNION ALL SELECT layer, id, time, server_time, seq, epoch, toInt8(1) AS kind, min_x, min_y, max_x, max_y FROM " +
			s.t("keyframe_entries") + " WHERE at = ? AND gen = ?" + layerCond
		args = append(append(args, kfAt, kfGen), largs...)
	}
	q := "SELECT layer, id, max(tuple(time, server_time, seq, epoch)) AS k," +
		" argMax(tuple(kind, min_x, min_y, max_x, max_y), tuple(time, server_time, seq, epoch)) AS last" +
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
	q := "INSERT INTO " + s.t("keyframe_entries") +
		" (at, gen, layer, id, time, server_time, seq, epoch, min_x, min_y, max_x, max_y)" +
		" SELECT ?, ?, layer, id, k.1, k.2, k.3, k.4, last.2, last.3, last.4, last.5 FROM (" + fold + ") WHERE last.1 = 1"
	if err := s.conn.Exec(ctx, q, append([]any{atMS, gen}, args...)...); err != nil {
		return fmt.Errorf("history: clickhouse keyframe: %w", err)
	}
	if err := mark(1); err != nil {
		return fmt.Errorf("history: clickhouse keyframe: %w", err)
	}
	return nil
}

// Range streams the records of the layers with from < time <= to in history
// order, row by row as the server sends its blocks. records is ordered by
// (layer, id, time): a range reads the layers' granules in the month
// partitions it spans and the server sorts them. bbox is not used: see
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
	q := "SELECT " + recordCols + " FROM " + s.t("records") + " FINAL"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time, server_time, seq, epoch, layer"
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := s.conn.Query(qctx, q, args...)
	if err != nil {
		return fmt.Errorf("history: clickhouse: %w", err)
	}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			cancel()
			_ = rows.Close()
			return err
		}
		if err := fn(r); err != nil {
			cancel() // stop the server instead of reading the rest
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
