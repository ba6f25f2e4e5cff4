package clickhouse

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDeployCopy: deploy/clickhouse/schema.sql is the embedded schema.
func TestDeployCopy(t *testing.T) {
	data, err := os.ReadFile("../../deploy/clickhouse/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != schemaSQL {
		t.Error("deploy/clickhouse/schema.sql differs from replay/clickhouse/schema.sql: copy it over")
	}
	if n := len(Schema("ioc")); n != 8 {
		t.Errorf("Schema has %d statements, want 8", n)
	}
}

// TestClusterVariantFollowsSchema: deploy/clickhouse/cluster.sql is written
// by hand from the schema; every table's columns and the materialized
// view's SELECT must stay those of the embedded schema, so that a schema
// change cannot leave the cluster variant behind unnoticed.
func TestClusterVariantFollowsSchema(t *testing.T) {
	data, err := os.ReadFile("../../deploy/clickhouse/cluster.sql")
	if err != nil {
		t.Fatal(err)
	}
	cluster := string(data)
	tables := regexp.MustCompile(`(?s)CREATE TABLE IF NOT EXISTS \{db\}\.(\w+) \((.*?)\) ENGINE`)
	found := tables.FindAllStringSubmatch(schemaSQL, -1)
	if len(found) != 6 {
		t.Fatalf("found %d tables in the schema, want 6", len(found))
	}
	for _, m := range found {
		local := fmt.Sprintf("CREATE TABLE IF NOT EXISTS {db}.%s_local ON CLUSTER '{cluster}' (%s) ENGINE", m[1], m[2])
		if !strings.Contains(cluster, local) {
			t.Errorf("cluster.sql: %s_local does not have the columns of %s in schema.sql", m[1], m[1])
		}
		if !strings.Contains(cluster, fmt.Sprintf("CREATE TABLE IF NOT EXISTS {db}.%s ON CLUSTER '{cluster}' AS {db}.%s_local", m[1], m[1])) {
			t.Errorf("cluster.sql: no Distributed table %s over %s_local", m[1], m[1])
		}
	}
	view := regexp.MustCompile(`(?s)timeline_mv TO \{db\}\.timeline AS\n(SELECT .*?)FROM \{db\}\.records`).FindStringSubmatch(schemaSQL)
	if view == nil || !strings.Contains(cluster, "timeline_mv ON CLUSTER '{cluster}' TO {db}.timeline_local AS\n"+view[1]+"FROM {db}.records_local") {
		t.Error("cluster.sql: timeline_mv does not select what schema.sql's does")
	}
	if !strings.Contains(cluster, fmt.Sprintf("VALUES (%d,", SchemaVersion)) {
		t.Errorf("cluster.sql does not record schema version %d", SchemaVersion)
	}
}
