// Package access is the IOC's access-control model: who is calling (a
// Principal), what they may do (roles mapped to a small fixed set of
// Permissions) and what part of the city they may see (a Scope of areas and
// layers). It holds no HTTP code, so that every package on a request's path
// (streams, frontend, replay, incidents, zones) can check the caller it finds
// in the context with FromContext, and deny, filter or clip on the server.
//
// The package may import geo, geo/areas and layers, and nothing above them;
// layers itself must never import it.
package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Role is a named bundle of permissions given to a user or a token.
type Role string

// The roles. Their permissions are the table rolePermissions (and the table
// in docs/SECURITY.md, which a test keeps equal to it).
const (
	RoleAdmin     Role = "admin"     // runs the IOC: users, tokens, configuration, audit
	RoleOperator  Role = "operator"  // staffs the operation room: incidents, zones
	RoleLeader    Role = "leader"    // city and district leaders: watch, review history
	RoleEmergency Role = "emergency" // field teams: see the map, act on their incidents
	RoleViewer    Role = "viewer"    // wall displays, guests: see the live map only
	RoleIngest    Role = "ingest"    // a feed: writes events to the layers of its scope
	RoleMonitor   Role = "monitor"   // a Prometheus scraper: reads /metrics only
)

// Roles lists every role, in the order of the documentation table.
var Roles = []Role{RoleAdmin, RoleOperator, RoleLeader, RoleEmergency, RoleViewer, RoleIngest, RoleMonitor}

// Permission is one thing a principal may do; a set of them is a bit mask.
type Permission uint16

// The permissions. Each guards a family of entry points; docs/SECURITY.md
// lists which endpoint needs which.
const (
	ReadLive     Permission = 1 << iota // live layers: queries, snapshots and diffs over WebSocket
	ReadHistory                         // history, state at T, series, replay
	ActIncidents                        // acknowledge, assign, update and close incidents and reports
	ManageZones                         // create, change and delete zones
	Ingest                              // write events (only to the layers of the scope)
	AdminUsers                          // create and change users, create and revoke tokens
	ReadAudit                           // query the audit log
	ReadMetrics                         // scrape /metrics
	Configure                           // change the running configuration, drive the simulator
)

// Permissions lists every permission, in the order of the documentation.
var Permissions = []Permission{ReadLive, ReadHistory, ActIncidents, ManageZones, Ingest, AdminUsers, ReadAudit, ReadMetrics, Configure}

var permissionNames = map[Permission]string{
	ReadLive: "read:live", ReadHistory: "read:history", ActIncidents: "act:incidents",
	ManageZones: "manage:zones", Ingest: "ingest", AdminUsers: "admin:users",
	ReadAudit: "read:audit", ReadMetrics: "read:metrics", Configure: "configure",
}

// String returns the permission's name ("read:live"), or the names of a set
// joined by "+".
func (p Permission) String() string {
	if n, ok := permissionNames[p]; ok {
		return n
	}
	var names []string
	for _, one := range Permissions {
		if p&one != 0 {
			names = append(names, permissionNames[one])
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "+")
}

// rolePermissions is the role → permission table. Admin holds every
// permission, including ingest, so that the open demo mode (one admin
// principal) can post events; a production feed gets an ingest token.
var rolePermissions = map[Role]Permission{
	RoleAdmin:     ReadLive | ReadHistory | ActIncidents | ManageZones | Ingest | AdminUsers | ReadAudit | ReadMetrics | Configure,
	RoleOperator:  ReadLive | ReadHistory | ActIncidents | ManageZones,
	RoleLeader:    ReadLive | ReadHistory,
	RoleEmergency: ReadLive | ActIncidents,
	RoleViewer:    ReadLive,
	RoleIngest:    Ingest,
	RoleMonitor:   ReadMetrics,
}

// PermissionsOf returns the permissions of a role; an unknown role has none.
func PermissionsOf(r Role) Permission { return rolePermissions[r] }

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(s))
	if _, ok := rolePermissions[r]; !ok {
		return "", fmt.Errorf("unknown role %q (want one of %s)", s, roleList())
	}
	return r, nil
}

// ParseRoles parses a comma-separated list of roles; it must name at least
// one.
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		r, err := ParseRole(part)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no role given (want one or more of %s)", roleList())
	}
	return out, nil
}

func roleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Kind says what sort of caller a principal is.
type Kind string

// The kinds of principal.
const (
	KindUser  Kind = "user"  // a person logged in with a session
	KindToken Kind = "token" // a machine with an API token
	KindDemo  Kind = "demo"  // everyone, in the open demo mode
)

// Principal is an authenticated caller. It is immutable once built and safe
// to share between goroutines.
type Principal struct {
	Kind  Kind
	ID    string // user name or token id: what the audit log names as actor
	Name  string // display name
	Roles []Role
	scope *Scope
	perms Permission
}

// NewPrincipal builds a principal; scope nil means unlimited.
func NewPrincipal(kind Kind, id, name string, roles []Role, scope *Scope) *Principal {
	p := &Principal{Kind: kind, ID: id, Name: name, Roles: slices.Clone(roles), scope: scope}
	for _, r := range roles {
		p.perms |= rolePermissions[r]
	}
	if p.scope == nil {
		p.scope = Unlimited()
	}
	return p
}

// Demo is the principal of the open demo mode: an unlimited admin.
func Demo() *Principal {
	return NewPrincipal(KindDemo, "demo", "demo (open mode)", []Role{RoleAdmin}, nil)
}

// Actor names the principal in audit records and logs: "user:alice",
// "token:3f9a…", "demo:demo".
func (p *Principal) Actor() string { return string(p.Kind) + ":" + p.ID }

// Scope returns the principal's scope (never nil).
func (p *Principal) Scope() *Scope { return p.scope }

// Permissions returns the union of the permissions of the principal's roles.
func (p *Principal) Permissions() Permission { return p.perms }

// Can reports whether the principal holds every permission in perm.
func (p *Principal) Can(perm Permission) bool { return p != nil && perm != 0 && p.perms&perm == perm }

// CanIngest reports whether the principal may write events to layer.
func (p *Principal) CanIngest(layer string) bool {
	return p.Can(Ingest) && p.scope.AllowsWrite(layer)
}

type ctxKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal the context carries. A context without
// one is an unauthenticated caller: code on a request path must deny it,
// never treat it as unlimited.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(*Principal)
	return p, ok && p != nil
}
