package clickhouse

import (
	"os"
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
