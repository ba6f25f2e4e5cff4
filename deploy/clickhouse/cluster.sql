-- Cluster variant of the history schema (version 2) for ClickHouse clusters:
-- each table is a Replicated*MergeTree "_local" table on every node, behind a
-- Distributed table with the name iocd uses, so iocd needs no change. Apply it
-- ONCE, before the first iocd start, with the cluster name and database set:
--   sed -e 's/{db}/ioc/g' -e 's/{cluster}/ioc_cluster/g' cluster.sql | clickhouse-client --multiquery
-- {shard} and {replica} are the server's macros (config.xml <macros>), left
-- for ClickHouse to fill in. See README.md ("Cluster") for the settings the
-- iocd user needs and for sizing. Not exercised by the test suite (it needs
-- ZooKeeper or ClickHouse Keeper and several nodes): review before use.

CREATE DATABASE IF NOT EXISTS {db} ON CLUSTER '{cluster}'
;
-- records, timeline and keyframe_entries are sharded by (layer, id): every
-- version of an entity lives on one shard, so ReplacingMergeTree's FINAL
-- (which merges within a shard) still removes re-appended duplicates. The small tables go anywhere.
CREATE TABLE IF NOT EXISTS {db}.records_local ON CLUSTER '{cluster}' (
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
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{db}/records', '{replica}', ver)
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (layer, id, time, server_time, seq, epoch)
;
CREATE TABLE IF NOT EXISTS {db}.records ON CLUSTER '{cluster}' AS {db}.records_local
ENGINE = Distributed('{cluster}', {db}, records_local, cityHash64(layer, id))
;
CREATE TABLE IF NOT EXISTS {db}.timeline_local ON CLUSTER '{cluster}' (
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
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{db}/timeline', '{replica}', ver)
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (layer, time, server_time, seq, epoch, id)
SETTINGS index_granularity = 1024
;
CREATE TABLE IF NOT EXISTS {db}.timeline ON CLUSTER '{cluster}' AS {db}.timeline_local
ENGINE = Distributed('{cluster}', {db}, timeline_local, cityHash64(layer, id))
;
CREATE TABLE IF NOT EXISTS {db}.keyframes_local ON CLUSTER '{cluster}' (
    at   Int64,
    gen  UInt64,
    done UInt8
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{db}/keyframes', '{replica}')
ORDER BY (at, gen)
;
CREATE TABLE IF NOT EXISTS {db}.keyframes ON CLUSTER '{cluster}' AS {db}.keyframes_local
ENGINE = Distributed('{cluster}', {db}, keyframes_local, rand())
;
CREATE TABLE IF NOT EXISTS {db}.keyframe_entries_local ON CLUSTER '{cluster}' (
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
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{db}/keyframe_entries', '{replica}')
PARTITION BY toYYYYMM(toDateTime(intDiv(at, 1000)))
ORDER BY (at, gen, layer, id)
;
CREATE TABLE IF NOT EXISTS {db}.keyframe_entries ON CLUSTER '{cluster}' AS {db}.keyframe_entries_local
ENGINE = Distributed('{cluster}', {db}, keyframe_entries_local, cityHash64(layer, id))
;
CREATE TABLE IF NOT EXISTS {db}.keyframe_drops_local ON CLUSTER '{cluster}' (
    from_time Int64,
    at_ns     UInt64
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{db}/keyframe_drops', '{replica}')
ORDER BY at_ns
;
CREATE TABLE IF NOT EXISTS {db}.keyframe_drops ON CLUSTER '{cluster}' AS {db}.keyframe_drops_local
ENGINE = Distributed('{cluster}', {db}, keyframe_drops_local, rand())
;
CREATE TABLE IF NOT EXISTS {db}.schema_version_local ON CLUSTER '{cluster}' (
    version    UInt32,
    applied_ms Int64
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{db}/schema_version', '{replica}')
ORDER BY version
;
CREATE TABLE IF NOT EXISTS {db}.schema_version ON CLUSTER '{cluster}' AS {db}.schema_version_local
ENGINE = Distributed('{cluster}', {db}, schema_version_local, rand())
;
-- The materialized view runs on each node, from the local records a shard
-- receives to its local timeline. It must be named timeline_mv: iocd's own
-- "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.timeline_mv" at start then
-- does nothing (under another name it would add a second view over the
-- Distributed table and every record would reach timeline twice).
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.timeline_mv ON CLUSTER '{cluster}' TO {db}.timeline_local AS
SELECT layer, time, server_time, seq, epoch, id,
       toInt8(if(op = 'delete', -1, if(geometry != '', 1, 0))) AS kind,
       op, stale, geometry, properties, area, min_x, min_y, max_x, max_y, ver
FROM {db}.records_local
;
-- Mark the schema as version 2 so iocd does not try to upgrade it.
INSERT INTO {db}.schema_version (version, applied_ms) VALUES (2, toInt64(toUnixTimestamp(now())) * 1000)
;
