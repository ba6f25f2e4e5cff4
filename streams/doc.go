// Package streams turns what sensors and partner systems send into
// validated layers.Events: strict decoding with errors that say what is
// wrong and where, the HTTP ingest endpoint, and the Bus that carries
// accepted events to the layers.
//
// # Wire format
//
// One event is a JSON object:
//
//	{"layer": "environment.air", "id": "st-01", "op": "upsert",
//	 "time": "2025-07-01T08:30:00+07:00",
//	 "geometry": {"type": "Point", "coordinates": [108.22, 16.07]},
//	 "properties": {"pm25": 23.4}}
//
// Its members are:
//
//   - layer: required, ^[a-z0-9][a-z0-9._-]{0,63}$.
//   - id: required, a non-empty string of at most 256 bytes without control
//     characters, or a number, whose literal text is the id (GeoJSON allows
//     numeric Feature ids).
//   - op: "upsert" (also when absent, null or "") or "delete".
//   - time: optional RFC 3339 with any offset, with or without fractional
//     seconds; absent means the server's clock reading for the body. At
//     most DecoderConfig.MaxFuture ahead of the server clock.
//   - geometry: a GeoJSON geometry (see geo.Decode), required for upserts.
//     On a delete it may be absent or null; when present it is checked like
//     an upsert's and kept in the Event (the layers ignore it).
//   - properties: optional JSON object (null, absent or {} give nil), kept
//     compacted in its own buffer.
//
// Other members are ignored, so a GeoJSON Feature with "layer" as a foreign
// member is an event as it is. Member names are matched exactly (case
// sensitive, without escapes). When a member appears twice the last wins.
// Every byte of the event is checked against RFC 8259, including unknown
// members: strings must be valid UTF-8 and \u escapes must not be lone
// surrogates (reason invalid_utf8).
//
// # Bodies
//
// A body (FormatJSON) is one event object or a JSON array of them; with
// FormatNDJSON it holds one event per line, and blank lines are skipped.
// An event's index is its 0-based position in the array (0 for a single
// object), or, in NDJSON, among the non-blank lines; NDJSON rejections also
// carry the 1-based line number. Offsets in messages are byte offsets in the
// body. A JSON array with a syntax error is refused as a whole (BatchError);
// a broken single object or NDJSON line refuses only that event.
//
// # HTTP
//
// Ingest serves POST /api/v1/events; see Ingest.ServeHTTP for statuses and
// the Response and ErrorBody types for the bodies.
package streams
