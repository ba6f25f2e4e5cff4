-- History schema for the ClickHouse replay store (replay/clickhouse).
-- Schema version 2. {db} is replaced by the configured database name.
-- Runs on Debian's ClickHouse 18.16 and on current releases: times are Int64
-- milliseconds since the Unix epoch (UTC), no DateTime64, TTL, JSON, Map or
-- LowCardinality. Every statement is idempotent (IF NOT EXISTS); the store
-- applies them at Open. Statements are separated by a line holding only ";".

CREATE DATABASE IF NOT EXISTS {db}
;
-- One row per stored change. ReplacingMergeTree(ver) with reads using FINAL:
-- appending the same record again (same layer, id, time, server_time, seq,
-- epoch) overwrites it, the latest append winning. ORDER BY serves the
-- per-entity scans (History, Series); PARTITION BY month prunes time ranges.
CREATE TABLE IF NOT EXISTS {db}.records (
    layer       String,
    id          String,
    time        Int64,   -- observation time, ms since epoch, UTC
    server_time Int64,   -- when the server applied the change, ms
    seq         UInt64,  -- change sequence, unique within epoch
    epoch       String,
    op          String,  -- upsert, delete, stale, late
    stale       UInt8,
    geometry    String,  -- GeoJSON; '' for deletes
    properties  String,  -- JSON as the layer kept it, byte for byte; '' for none
    area        String,  -- district code
    min_x       Float64,
    min_y       Float64,
    max_x       Float64,
    max_y       Float64,
    ver         UInt64   -- append time, ns: the latest append of a record wins
) ENGINE = ReplacingMergeTree(ver)
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (layer, id, time, server_time, seq, epoch)
;
-- The same changes, full, in per-layer time order, with kind for the StateAt
-- fold (1: carries a state, -1: delete, 0: a late delete, which deletes
-- nothing). Fed by the materialized view below in the same INSERT as
-- records. Serves StateAt, keyframes and replay's time-range scans: the key
-- prunes a time range per layer, and the fold needs no join back to records.
-- Small granules (1024 rows, not 8192): a replay chunk or a keyframe's fold
-- reads a few minutes of every layer, and every granule it touches is read
-- whole, geometry and properties included.
-- (Schema version 1 held only the fold columns; Open rebuilds it from records.)
CREATE TABLE IF NOT EXISTS {db}.timeline (
    layer       String,
    time        Int64,
    server_time Int64,
    seq         UInt64,
    epoch       String,
    id          String,
    kind        Int8,
    op          String,
    stale       UInt8,
    geometry    String,
    properties  String,
    area        String,
    min_x       Float64,
    min_y       Float64,
    max_x       Float64,
    max_y       Float64,
    ver         UInt64
) ENGINE = ReplacingMergeTree(ver)
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (layer, time, server_time, seq, epoch, id)
SETTINGS index_granularity = 1024
;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.timeline_mv TO {db}.timeline AS
SELECT layer, time, server_time, seq, epoch, id,
       toInt8(if(op = 'delete', -1, if(geometry != '', 1, 0))) AS kind,
       op, stale, geometry, properties, area, min_x, min_y, max_x, max_y, ver
FROM {db}.records
;
-- Keyframes: one row when a keyframe starts (done 0) and one when its
-- entries are written (done 1). gen is the start time in ns and tells
-- rewrites of the same instant apart.
CREATE TABLE IF NOT EXISTS {db}.keyframes (
    at   Int64,
    gen  UInt64,
    done UInt8
) ENGINE = MergeTree
ORDER BY (at, gen)
;
-- The folded state of a keyframe: per entity, its latest record at or
-- before at, in full (deleted entities are absent).
CREATE TABLE IF NOT EXISTS {db}.keyframe_entries (
    at          Int64,
    gen         UInt64,
    layer       String,
    id          String,
    time        Int64,
    server_time Int64,
    seq         UInt64,
    epoch       String,
    op          String,
    stale       UInt8,
    geometry    String,
    properties  String,
    area        String,
    min_x       Float64,
    min_y       Float64,
    max_x       Float64,
    max_y       Float64,
    ver         UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(at, 1000)))
ORDER BY (at, gen, layer, id)
;
-- Written when an append holds records observed at or before an existing
-- keyframe: keyframes with at >= from_time and gen <= at_ns are void.
CREATE TABLE IF NOT EXISTS {db}.keyframe_drops (
    from_time Int64,
    at_ns     UInt64
) ENGINE = MergeTree
ORDER BY at_ns
;
CREATE TABLE IF NOT EXISTS {db}.schema_version (
    version    UInt32,
    applied_ms Int64
) ENGINE = MergeTree
ORDER BY version
;
