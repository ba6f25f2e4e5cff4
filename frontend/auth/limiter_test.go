package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLimiterBackoff(t *testing.T) {
	l := newLimiter(2, time.Second, 8*time.Second, 10)
	now := time.Unix(1_800_000_000, 0)
	var waits []string
	for range 8 {
		l.fail("k", now)
		d, _ := l.wait("k", now)
		waits = append(waits, d.String())
	}
	// Two free failures, then doubling up to the ceiling.
	if got := strings.Join(waits, " "); got != "0s 0s 1s 2s 4s 8s 8s 8s" {
		t.Errorf("waits = %s", got)
	}
	if _, first := l.wait("k", now); first {
		t.Error("a second blocked attempt is reported as the first")
	}
	l.reset("k")
	if d, _ := l.wait("k", now); d != 0 {
		t.Errorf("after reset: wait %v", d)
	}
}

func TestLimiterStaysBounded(t *testing.T) {
	l := newLimiter(0, time.Second, time.Minute, 100)
	now := time.Unix(1_800_000_000, 0)
	for i := range 10000 {
		l.fail(strings.Repeat("x", i%50)+string(rune('a'+i%26))+time.Duration(i).String(), now)
	}
	if n := len(l.keys); n > 100 {
		t.Fatalf("limiter holds %d keys, bound 100", n)
	}
}

// TestAuditFloodIsBounded: a client spraying bad tokens gets every one
// refused and counted, but writes at most 60 audit records a minute.
func TestAuditFloodIsBounded(t *testing.T) {
	f := newFixture(t)
	bad := bearer("ioc_0000000000000000_" + strings.Repeat("B", tokenSecretLen))
	for range 100 {
		if resp, _ := f.do(t, req{path: "/api/v1/probe/live", header: bad}); resp.StatusCode != 401 {
			t.Fatalf("bad token: %d", resp.StatusCode)
		}
	}
	f.clock.Advance(time.Minute)
	f.do(t, req{path: "/api/v1/probe/live", header: bad})
	recs, err := f.store.QueryAudit(AuditQuery{Action: ActionAuthFailed, To: f.clock.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 61 {
		t.Errorf("%d auth_failed records, want 60 in the first minute and 1 after", len(recs))
	}
	if got := testutil.ToFloat64(f.auth.metrics.auditSuppressed); got != 40 {
		t.Errorf("ioc_audit_suppressed_total = %v, want 40", got)
	}
	if got := testutil.ToFloat64(f.auth.metrics.rejections.WithLabelValues(reasonBadToken)); got != 101 {
		t.Errorf("bad_token rejections = %v, want 101", got)
	}
}
