package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/streams/cap"
)

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func teamsInside(t *testing.T, base, id string) float64 {
	_, v := getJSON(t, base+"/api/v1/zones/"+id)
	p, _ := v["properties"].(map[string]any)
	s, _ := p["summary"].(map[string]any)
	n, _ := s["teams"].(float64)
	return n
}

// TestZonesEndToEnd: a zone declared over a district sees a team posted
// into it, exports as CAP, takes CAP alerts in, and survives a restart.
func TestZonesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServer(t, "--data-dir", dir)
	resp, err := http.Post(base+"/api/v1/zones", "application/json",
		strings.NewReader(`{"name":"Ứng phó ngập Hải Châu","area":{"level":"district","ref":"Hải Châu"},"severity":"critical"}`))
	if err != nil {
		t.Fatal(err)
	}
	var z map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&z)
	resp.Body.Close()
	id, _ := z["id"].(string)
	if resp.StatusCode != http.StatusCreated || id == "" {
		t.Fatalf("declare: %d %v", resp.StatusCode, z)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	post(t, base, fmt.Sprintf(`{"layer":"response.teams","id":"team-hc-1","time":%q,"geometry":{"type":"Point","coordinates":[108.2208,16.0678]},"properties":{"name":"Đội cứu hộ Hải Châu 1","kind":"rescue","activity":"en_route"}}`, now))
	waitUntil(t, "the team inside the zone", func() bool { return teamsInside(t, base, id) == 1 })
	if code, v := getJSON(t, base+"/api/v1/zones/"+id+"/contents?layer=response.teams"); code != 200 || v["total"] != 1.0 {
		t.Errorf("contents: %d %v", code, v)
	}

	resp, err = http.Get(base + "/api/v1/zones/" + id + "/cap")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a, err := cap.DecodeBytes(doc)
	if resp.StatusCode != 200 || err != nil || a.Infos[0].Severity != "Extreme" || !strings.Contains(a.Infos[0].Areas[0].AreaDesc, "Hải Châu") {
		t.Errorf("zone as CAP: %d %v\n%s", resp.StatusCode, err, doc)
	}

	if code, v := getJSON(t, base+"/api/v1/incidents/inc-none/cap"); code != 404 || !strings.Contains(fmt.Sprint(v), "ioc.incidents has no feature") {
		t.Errorf("incident export route: %d %v", code, v)
	}

	alert, err := os.ReadFile("../../streams/cap/testdata/typhoon_nchmf.xml")
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(base+"/api/v1/cap", "application/cap+xml", strings.NewReader(string(alert)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("CAP in: %d", resp.StatusCode)
	}
	waitUntil(t, "the alert's area inside the zone", func() bool {
		_, v := getJSON(t, base+"/api/v1/zones/"+id+"/contents?layer=alerts.cap")
		return v["total"] == 1.0
	})

	for _, path := range []string{"ioc.zones/" + id, "response.teams/team-hc-1"} {
		waitUntil(t, path+" in history", func() bool {
			resp, err := http.Get(base + "/api/v1/history/" + path + "?from=2000-01-01T00:00:00Z")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var recs []any
			return json.NewDecoder(resp.Body).Decode(&recs) == nil && len(recs) > 0
		})
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, _ = startServer(t, "--data-dir", dir)
	waitUntil(t, "the zone and its team after a restart", func() bool { return teamsInside(t, base, id) == 1 })
}
