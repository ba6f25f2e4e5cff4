package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func incident(t *testing.T, base, id string) map[string]any {
	t.Helper()
	code, v := getJSON(t, base+"/api/v1/incidents/"+id)
	if code != http.StatusOK {
		return nil
	}
	p, _ := v["properties"].(map[string]any)
	return p
}

// TestIncidentsEndToEnd: a river past BĐ2 posted to the ingest endpoint
// opens an incident, an operator acknowledges it over HTTP, and after a
// restart the incident is back (restored from history) and the engine
// still knows it: BĐ3 at the same station raises it instead of opening a
// duplicate.
func TestIncidentsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServer(t, "--data-dir", dir)
	river := func(at time.Time, level float64) string {
		return fmt.Sprintf(`{"layer":"flooding.rivers","id":"cu-de","time":%q,"geometry":{"type":"Point","coordinates":[108.127,16.12]},"properties":{"currentLevel":%v,"bd1":1.5,"bd2":2.5,"bd3":3.5}}`,
			at.UTC().Format(time.RFC3339), level)
	}
	now := time.Now().Add(-time.Minute)
	post(t, base, river(now, 2.6))
	waitUntil(t, "the incident", func() bool { return incident(t, base, "inc-1") != nil })
	req, _ := http.NewRequest("POST", base+"/api/v1/incidents/inc-1/actions", strings.NewReader(`{"action":"acknowledge"}`))
	req.Header.Set("X-IOC-User", "lan")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("acknowledge: %d", resp.StatusCode)
	}
	if code, v := getJSON(t, base+"/api/v1/incidents?status=acknowledged"); code != 200 || v["numberReturned"] != 1.0 {
		t.Errorf("list: %d %v", code, v)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	base, _ = startServer(t, "--data-dir", dir)
	p := incident(t, base, "inc-1")
	if p == nil || p["status"] != "acknowledged" || p["severity"] != "major" {
		t.Fatalf("after a restart: %v", p)
	}
	post(t, base, river(now.Add(30*time.Second), 3.6))
	waitUntil(t, "BĐ3 raising the restored incident", func() bool {
		p := incident(t, base, "inc-1")
		return p != nil && p["severity"] == "critical"
	})
	if p := incident(t, base, "inc-2"); p != nil {
		t.Errorf("a duplicate incident was opened: %v", p)
	}
	if !strings.Contains(fmt.Sprint(p["trail"]), "by:lan") {
		t.Errorf("the trail lost who acknowledged: %v", p["trail"])
	}
}

// A bad rules file stops iocd at startup (and iocd checkconfig) with the
// flag, the file, the rule and the field.
func TestBadRulesFileIsRefused(t *testing.T) {
	path := t.TempDir() + "/rules.yaml"
	if err := os.WriteFile(path, []byte("version: 1\nrules:\n  - {name: aqi, layer: environment.air, kind: threshold, when: [\"aqi >= \"], category: air_quality, severity: minor}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := parseConfig([]string{"--rules", path}, func(string) string { return "" }, io.Discard)
	want := "--rules: " + path + `: rule "aqi" (rules[0]): when[0]: "aqi >= ": no value after >=`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
