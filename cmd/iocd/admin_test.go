package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danang-ioc/ioc/frontend/auth"
	"github.com/danang-ioc/ioc/layers/access"
)

// admin runs one admin command against dataDir with stdin and returns its
// exit code and outputs.
func admin(t *testing.T, dataDir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"IOC_DATA_DIR": dataDir}
	code := runAdmin(args, adminIO{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return env[k] }, actor: "cli:test", bcryptCost: 4})
	return code, out.String(), errOut.String()
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	const pw = "a long enough password\n"
	steps := []struct {
		args     []string
		stdin    string
		code     int
		contains string
	}{
		{[]string{"users", "add", "--name", "alice", "--role", "operator", "--districts", "492,493"}, pw, 0, "user alice added (roles operator; scope areas 492,493)"},
		{[]string{"users", "add", "--name", "alice", "--role", "viewer"}, pw, 1, "already exists"},
		{[]string{"users", "add", "--name", "bob", "--role", "viewer"}, "short\n", 1, "password too short"},
		{[]string{"users", "add", "--name", "bob", "--role", "root"}, pw, 1, `unknown role "root"`},
		{[]string{"users", "add", "--name", "bob", "--role", "viewer", "--districts", "999"}, pw, 1, `scope area "999"`},
		{[]string{"users", "add", "--name", "bob", "--role", "viewer"}, "", 1, "no password on standard input"},
		{[]string{"users", "list"}, "", 0, "alice"},
		{[]string{"users", "disable", "--name", "alice"}, "", 0, "disabled=true"},
		{[]string{"users", "passwd", "--name", "nobody"}, pw, 1, "no such user"},
		{[]string{"tokens", "create", "--name", "traffic-feed", "--role", "ingest"}, "", 1, "must name the layers"},
		{[]string{"tokens", "create", "--name", "traffic-feed", "--role", "ingest", "--layers", "traffic.segments,traffic.signals"}, "", 0, "ioc_"},
		{[]string{"tokens", "list"}, "", 0, "layers traffic.segments,traffic.signals"},
		{[]string{"tokens", "revoke", "--id", "0000000000000000"}, "", 1, "no such token"},
		{[]string{"tokens", "frobnicate"}, "", 2, "unknown command"},
	}
	for _, s := range steps {
		code, out, errOut := admin(t, dir, s.stdin, s.args...)
		if code != s.code || !strings.Contains(out+errOut, s.contains) {
			t.Errorf("iocd %s: code %d, output %q %q; want code %d containing %q", strings.Join(s.args, " "), code, out, errOut, s.code, s.contains)
		}
	}

	st, err := auth.Open(filepath.Join(dir, auth.FileName), auth.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User("alice")
	if err != nil || !u.Disabled || u.Roles[0] != access.RoleOperator || strings.Join(u.Scope.Areas, ",") != "492,493" {
		t.Errorf("stored alice = %+v, %v", u, err)
	}
	if bytes.Contains(u.Hash, []byte("a long enough password")) || len(u.Hash) < 50 {
		t.Errorf("stored hash %q is not a bcrypt hash", u.Hash)
	}
	recs, err := st.QueryAudit(auth.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Actor+" "+r.Action)
	}
	if want := "cli:test user_created,cli:test user_changed,cli:test token_created"; strings.Join(actions, ",") != want {
		t.Errorf("audit = %v, want %s", actions, want)
	}
}

func TestAdminTokenShownOnceAndRevoked(t *testing.T) {
	dir := t.TempDir()
	code, secret, _ := admin(t, dir, "", "tokens", "create", "--name", "wall", "--role", "viewer", "--ttl", "720h")
	secret = strings.TrimSpace(secret)
	if code != 0 || !strings.HasPrefix(secret, "ioc_") {
		t.Fatalf("create: %d %q", code, secret)
	}
	_, list, _ := admin(t, dir, "", "tokens", "list")
	if strings.Contains(list, secret[20:]) {
		t.Fatal("tokens list shows the secret")
	}
	id := secret[4:20]
	if code, out, errOut := admin(t, dir, "", "tokens", "revoke", "--id", id); code != 0 {
		t.Fatalf("revoke: %d %s %s", code, out, errOut)
	}
	_, list, _ = admin(t, dir, "", "tokens", "list")
	if line := list[strings.Index(list, id):]; strings.HasSuffix(strings.Fields(strings.SplitN(line, "\n", 2)[0])[7], "-") {
		t.Errorf("revoked token listed without a revocation time: %s", line)
	}
}
