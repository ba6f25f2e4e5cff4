package access

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestRolePermissions is the role × permission table written out by hand:
// a change to rolePermissions must change this table too.
func TestRolePermissions(t *testing.T) {
	const (
		y = true
		n = false
	)
	want := map[Role]map[Permission]bool{
		//             live history incidents zones ingest users audit metrics configure
		RoleAdmin:     row(y, y, y, y, y, y, y, y, y),
		RoleOperator:  row(y, y, y, y, n, n, n, n, n),
		RoleLeader:    row(y, y, n, n, n, n, n, n, n),
		RoleEmergency: row(y, n, y, n, n, n, n, n, n),
		RoleViewer:    row(y, n, n, n, n, n, n, n, n),
		RoleIngest:    row(n, n, n, n, y, n, n, n, n),
		RoleMonitor:   row(n, n, n, n, n, n, n, y, n),
	}
	if len(want) != len(Roles) {
		t.Fatalf("table has %d roles, Roles has %d", len(want), len(Roles))
	}
	for _, r := range Roles {
		p := NewPrincipal(KindUser, "u", "u", []Role{r}, nil)
		for _, perm := range Permissions {
			if got := p.Can(perm); got != want[r][perm] {
				t.Errorf("%s can %s = %v, want %v", r, perm, got, want[r][perm])
			}
		}
	}
}

func row(v ...bool) map[Permission]bool {
	m := map[Permission]bool{}
	for i, perm := range Permissions {
		m[perm] = v[i]
	}
	return m
}

func TestCanCombinesRolesAndNeedsEveryPermission(t *testing.T) {
	p := NewPrincipal(KindUser, "u", "u", []Role{RoleViewer, RoleIngest}, nil)
	for _, tc := range []struct {
		perm Permission
		want bool
	}{
		{ReadLive, true},
		{Ingest, true},
		{ReadLive | Ingest, true},
		{ReadLive | ReadHistory, false},
		{0, false}, // asking for nothing is a mistake, not a grant
	} {
		if got := p.Can(tc.perm); got != tc.want {
			t.Errorf("Can(%s) = %v, want %v", tc.perm, got, tc.want)
		}
	}
	var nobody *Principal
	if nobody.Can(ReadLive) {
		t.Error("a nil principal can read")
	}
}

func TestParseRoles(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr string
	}{
		{"operator", "operator", ""},
		{" operator , viewer,operator", "operator,viewer", ""},
		{"", "", "no role given"},
		{"root", "", `unknown role "root"`},
		{"viewer,Admin", "", `unknown role "Admin"`},
	} {
		got, err := ParseRoles(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseRoles(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		var names []string
		for _, r := range got {
			names = append(names, string(r))
		}
		if err != nil || strings.Join(names, ",") != tc.want {
			t.Errorf("ParseRoles(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestContextCarriesPrincipal(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("an empty context has a principal")
	}
	if _, ok := FromContext(WithPrincipal(context.Background(), nil)); ok {
		t.Fatal("a nil principal counts as authenticated")
	}
	p := NewPrincipal(KindToken, "abc", "feed", []Role{RoleIngest}, nil)
	got, ok := FromContext(WithPrincipal(context.Background(), p))
	if !ok || got != p || got.Actor() != "token:abc" {
		t.Fatalf("FromContext = %v, %v", got, ok)
	}
	if !got.Scope().IsUnlimited() {
		t.Error("a principal built without a scope is limited")
	}
}

func TestDemoIsUnlimitedAdmin(t *testing.T) {
	d := Demo()
	if d.Kind != KindDemo || d.ID != "demo" || !d.Can(AdminUsers|Ingest|ReadHistory) || !d.Scope().IsUnlimited() {
		t.Fatalf("demo principal = %+v", d)
	}
}

// TestSecurityDocTable keeps the role table of docs/SECURITY.md equal to
// rolePermissions.
func TestSecurityDocTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	header := "| role | " + strings.Join(permNames(), " | ") + " |"
	text := string(doc)
	at := strings.Index(text, header)
	if at < 0 {
		t.Fatalf("docs/SECURITY.md has no role table with header\n%s", header)
	}
	rowRE := regexp.MustCompile("^\\| `([a-z]+)` \\|(.*)\\|$")
	seen := 0
	for _, line := range strings.Split(text[at:], "\n")[2:] {
		m := rowRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			break
		}
		seen++
		r, err := ParseRole(m[1])
		if err != nil {
			t.Fatalf("doc table: %v", err)
		}
		cells := strings.Split(m[2], "|")
		for i, perm := range Permissions {
			documented := strings.TrimSpace(cells[i]) == "yes"
			if documented != (PermissionsOf(r)&perm != 0) {
				t.Errorf("docs/SECURITY.md says %s %s = %v; code disagrees", r, perm, documented)
			}
		}
	}
	if seen != len(Roles) {
		t.Errorf("docs/SECURITY.md table has %d roles, code has %d", seen, len(Roles))
	}
}

func permNames() []string {
	var out []string
	for _, p := range Permissions {
		out = append(out, "`"+p.String()+"`")
	}
	return out
}
