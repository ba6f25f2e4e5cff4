package auth

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers/access"
)

// oneArea is an AreaSource that knows only the code it holds.
type oneArea struct {
	code string
	g    geom.T
}

func (a oneArea) AreaPolygon(code string) (geom.T, bool) { return a.g, code == a.code && a.g != nil }

func TestStoreReopenKeepsTokensAndRefusesLostAreas(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	square := geom.NewPolygonFlat(geom.XY, []float64{108.2, 16.0, 108.3, 16.0, 108.3, 16.1, 108.2, 16.0}, []int{8})
	st, err := Open(path, StoreOptions{Areas: oneArea{"900", square}, BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	secret, tok, err := st.CreateToken(NewToken{Name: "district", Roles: []access.Role{access.RoleViewer}, Scope: access.ScopeSpec{Areas: []string{"900"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.authenticateToken(secret); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = Open(path, StoreOptions{Areas: oneArea{"900", square}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.authenticateToken(secret)
	if err != nil || p.ID != tok.ID || !p.Scope().AreaLimited() {
		t.Fatalf("after reopen: %v, %v", p, err)
	}
	if lu := st.Tokens()[0].LastUsed; lu.IsZero() {
		t.Error("last use not kept across a restart")
	}
	// While open, a second opener (an admin command) is refused clearly.
	if _, err := Open(path, StoreOptions{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
	st.Close()

	// The area file lost code 900: starting must fail, not widen the scope.
	if _, err := Open(path, StoreOptions{Areas: oneArea{}}); err == nil {
		t.Fatal("a token whose area is gone was loaded")
	}
}

func TestAuditPrune(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := Open(filepath.Join(t.TempDir(), FileName), StoreOptions{AuditRetention: 24 * time.Hour, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, age := range []time.Duration{72 * time.Hour, 25 * time.Hour, time.Hour, 0} {
		if err := st.AppendAudit(Record{At: now.Add(-age), Actor: "t", Action: "x", Outcome: OutcomeOK}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.PruneAudit()
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	recs, _ := st.QueryAudit(AuditQuery{To: now.Add(time.Second)})
	if len(recs) != 2 {
		t.Errorf("%d records left, want 2", len(recs))
	}
}

// BenchmarkAuthenticateToken is the cost a token adds to every request.
func BenchmarkAuthenticateToken(b *testing.B) {
	st, err := Open(filepath.Join(b.TempDir(), FileName), StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	secret, _, err := st.CreateToken(NewToken{Name: "wall", Roles: []access.Role{access.RoleViewer}})
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.authenticateToken(secret); err != nil {
				b.Fatal(err)
			}
		}
	})
}
