// Package ngsi takes FIWARE NGSI-LD and NGSI v2 entities in and maps them,
// by entity type, onto the IOC's layers.
//
// The Adapter serves the NGSI-LD create, batch upsert, partial update and
// delete endpoints, and the NGSI v2 create, batch update and subscription
// notification endpoints (see Adapter.Routes). Every entity, in normalized,
// concise or keyValues form (or, for NGSI-LD, as a GeoJSON Feature), becomes
// one layers.Event: the layer comes from its type (DefaultRoutes), the
// geometry from its location (GeoJSON, or v2 geo:point and friends), the
// time from its observedAt or date attributes, and the properties are its
// Smart Data Models attributes as plain values, plus "type". Accepted
// events go through streams.Intake, so that the modules give them their
// domain meaning and the bus applies them; a module's refusal is reported
// in the NGSI answer like any other.
//
// The adapter remembers the last state of the most recently updated
// entities (Config.MaxEntities), so that a partial update is merged into
// it, and an entity sent without a location is placed where it was last
// seen, or where the device or station it refers to (refDevice, ...) is.
//
// Adapter.DecodeEntity decodes NGSI-LD payloads that come by another
// transport (it is the MQTT source's EntityDecoder), with the same rules
// and the same memory.
//
// Input is read strictly (RFC 8259, UTF-8) but what is merely sloppy is
// normalised: ids that are not URIs are kept, whitespace around them
// trimmed; times without a zone are taken in Config.LocalZone (UTC); a
// type sent as a full IRI is matched by its last segment. What is wrong is
// refused with a stable reason and a message that says what and where,
// e.g. "location.value.coordinates: latitude 168.37 is out of range
// [-90, 90] but longitude -56.64 would be a latitude: coordinates look
// swapped". @context is never fetched nor interpreted.
//
// docs/NGSI.md documents the endpoints, the type → layer table and every
// rule with examples.
package ngsi
