package streams

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/danang-ioc/ioc/layers/access"
)

func ingestPrincipal(t *testing.T, spec access.ScopeSpec, roles ...access.Role) *access.Principal {
	t.Helper()
	areas, err := access.DefaultAreas()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.Resolve(areas)
	if err != nil {
		t.Fatal(err)
	}
	return access.NewPrincipal(access.KindToken, "feed", "feed", roles, sc)
}

// The batch every case sends: a camera in Hải Châu, a lamp there, a camera
// in Thanh Khê (inside Hải Châu's bounding box, outside the district), and
// a delete.
const scopeBatch = `[
{"layer":"traffic.cameras","id":"in","time":"2025-07-01T01:00:00Z","geometry":{"type":"Point","coordinates":[108.2208,16.0678]}},
{"layer":"lighting.lamps","id":"lamp","time":"2025-07-01T01:00:00Z","geometry":{"type":"Point","coordinates":[108.2208,16.0678]}},
{"layer":"traffic.cameras","id":"out","time":"2025-07-01T01:00:00Z","geometry":{"type":"Point","coordinates":[108.19,16.065]}},
{"layer":"traffic.cameras","id":"in","op":"delete","time":"2025-07-01T01:00:01Z"}
]`

func TestIngestChecksEachEventAgainstTheSender(t *testing.T) {
	cases := []struct {
		name      string
		principal *access.Principal
		status    int
		accepted  []string // ids applied, in order
		refused   []int    // body indexes refused as out_of_scope
	}{
		{"unlimited feed", ingestPrincipal(t, access.ScopeSpec{}, access.RoleIngest), 202, []string{"in", "lamp", "out", "in"}, nil},
		{"camera feed", ingestPrincipal(t, access.ScopeSpec{Layers: []string{"traffic.cameras"}}, access.RoleIngest), 202, []string{"in", "out", "in"}, []int{1}},
		{"Hải Châu camera feed", ingestPrincipal(t, access.ScopeSpec{Areas: []string{"492"}, Layers: []string{"traffic.cameras"}}, access.RoleIngest), 202, []string{"in"}, []int{1, 2, 3}},
		{"viewer", ingestPrincipal(t, access.ScopeSpec{}, access.RoleViewer), 400, nil, []int{0, 1, 2, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(IngestConfig{})
			req := httptest.NewRequest(http.MethodPost, EventsPath, strings.NewReader(scopeBatch))
			req.Header.Set("Content-Type", "application/json")
			req = req.WithContext(access.WithPrincipal(req.Context(), tc.principal))
			rec := env.do(req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			var resp Response
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			var refused []int
			for _, r := range resp.Rejected {
				if r.Reason != ReasonOutOfScope || r.Error == "" {
					t.Errorf("rejection %+v: want reason out_of_scope with a message", r)
				}
				refused = append(refused, r.Index)
			}
			if !equalInts(refused, tc.refused) {
				t.Errorf("refused %v, want %v", refused, tc.refused)
			}
			var ids []string
			for _, ev := range env.bus.events() {
				ids = append(ids, ev.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.accepted, ",") {
				t.Errorf("applied %v, want %v", ids, tc.accepted)
			}
			if got := env.counter(t, "ioc_ingest_rejected_total", "reason", "out_of_scope"); got != float64(len(tc.refused)) {
				t.Errorf("out_of_scope rejections counted %g, want %d", got, len(tc.refused))
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
