package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/danang-ioc/ioc/frontend/auth"
	"github.com/danang-ioc/ioc/layers/access"
)

// adminIO is what the admin commands read and write; tests replace it.
type adminIO struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	actor  string // audit actor: "cli:<os user>"
	// bcryptCost is the cost of new password hashes; 0 is the store's
	// default (12). Tests lower it: a cost-12 hash takes seconds under -race.
	bcryptCost int
}

func defaultAdminIO() adminIO {
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	return adminIO{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, actor: actor}
}

// runAdmin runs `iocd users …` or `iocd tokens …` on the auth store under
// --data-dir and returns the exit code: 0 done, 1 failed, 2 bad usage.
func runAdmin(args []string, cli adminIO) int {
	if len(args) < 2 {
		fmt.Fprintln(cli.stderr, "usage: iocd users add|list|passwd|disable|enable …, iocd tokens create|list|revoke …")
		return 2
	}
	cmd := args[0] + " " + args[1]
	run, ok := adminCommands[cmd]
	if !ok {
		fmt.Fprintf(cli.stderr, "iocd: unknown command %q (want one of %s)\n", cmd, adminCommandList())
		return 2
	}
	fs := flag.NewFlagSet("iocd "+cmd, flag.ContinueOnError)
	fs.SetOutput(cli.stderr)
	o := &adminOpts{bcryptCost: cli.bcryptCost}
	o.define(fs, cli.getenv)
	if err := fs.Parse(args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := run(o, cli); err != nil {
		fmt.Fprintf(cli.stderr, "iocd %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

var adminCommands = map[string]func(*adminOpts, adminIO) error{
	"users add":     usersAdd,
	"users list":    usersList,
	"users passwd":  usersPasswd,
	"users disable": func(o *adminOpts, cli adminIO) error { return usersSetDisabled(o, cli, true) },
	"users enable":  func(o *adminOpts, cli adminIO) error { return usersSetDisabled(o, cli, false) },
	"tokens create": tokensCreate,
	"tokens list":   tokensList,
	"tokens revoke": tokensRevoke,
}

func adminCommandList() string {
	return "users add, users list, users passwd, users disable, users enable, tokens create, tokens list, tokens revoke"
}

// adminOpts are the flags of every admin command; each command reads the
// ones it needs.
type adminOpts struct {
	dataDir, areas           string
	name, displayName, id    string
	roles, districts, layers string
	ttl                      time.Duration
	bcryptCost               int
}

func (o *adminOpts) define(fs *flag.FlagSet, getenv func(string) string) {
	def := func(env, fallback string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return fallback
	}
	fs.StringVar(&o.dataDir, "data-dir", def("IOC_DATA_DIR", "./data"), "directory of the server's local state; the store is "+auth.FileName+" in it")
	fs.StringVar(&o.areas, "areas", def("IOC_AREAS", ""), "extra area files, as for the server (to resolve --districts)")
	fs.StringVar(&o.name, "name", "", "user or token name")
	fs.StringVar(&o.displayName, "display-name", "", "user's display name")
	fs.StringVar(&o.id, "id", "", "token id (from tokens list)")
	fs.StringVar(&o.roles, "role", "", "comma-separated roles: "+strings.Join(roleNames(), ", "))
	fs.StringVar(&o.districts, "districts", "", "comma-separated district or ward codes the scope is limited to (empty: the whole city)")
	fs.StringVar(&o.layers, "layers", "", "comma-separated layers the scope is limited to; required for ingest tokens")
	fs.DurationVar(&o.ttl, "ttl", 0, "token lifetime, e.g. 2160h (0: no expiry)")
}

func roleNames() []string {
	out := make([]string, len(access.Roles))
	for i, r := range access.Roles {
		out[i] = string(r)
	}
	return out
}

func (o *adminOpts) scope() access.ScopeSpec {
	return access.ScopeSpec{Areas: splitList(o.districts), Layers: splitList(o.layers)}
}

// openStore opens the auth store; area codes resolve against the embedded
// areas and --areas, as in the server.
func (o *adminOpts) openStore() (*auth.Store, error) {
	areas, err := access.DefaultAreas(splitList(o.areas)...)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return auth.Open(filepath.Join(o.dataDir, auth.FileName), auth.StoreOptions{Areas: areas, BcryptCost: o.bcryptCost})
}

// withStore opens the store, runs fn and closes it.
func (o *adminOpts) withStore(fn func(*auth.Store) error) error {
	st, err := o.openStore()
	if err != nil {
		return err
	}
	return errors.Join(fn(st), st.Close())
}

func usersAdd(o *adminOpts, cli adminIO) error {
	roles, err := access.ParseRoles(o.roles)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	pw, err := readPassword(cli)
	if err != nil {
		return err
	}
	return o.withStore(func(st *auth.Store) error {
		u, err := st.AddUser(auth.NewUser{Name: o.name, DisplayName: o.displayName, Password: pw, Roles: roles, Scope: o.scope()})
		if err != nil {
			return err
		}
		audit(st, cli, auth.ActionUserCreated, "user:"+u.Name, "roles "+joinRoles(u.Roles)+"; scope "+u.Scope.String())
		fmt.Fprintf(cli.stdout, "user %s added (roles %s; scope %s)\n", u.Name, joinRoles(u.Roles), u.Scope)
		return nil
	})
}

func usersPasswd(o *adminOpts, cli adminIO) error {
	pw, err := readPassword(cli)
	if err != nil {
		return err
	}
	return o.withStore(func(st *auth.Store) error {
		if err := st.SetPassword(o.name, pw); err != nil {
			return err
		}
		audit(st, cli, auth.ActionUserChanged, "user:"+o.name, "password changed")
		fmt.Fprintf(cli.stdout, "password of %s changed\n", o.name)
		return nil
	})
}

func usersSetDisabled(o *adminOpts, cli adminIO, disabled bool) error {
	return o.withStore(func(st *auth.Store) error {
		if err := st.SetDisabled(o.name, disabled); err != nil {
			return err
		}
		audit(st, cli, auth.ActionUserChanged, "user:"+o.name, fmt.Sprintf("disabled=%v", disabled))
		fmt.Fprintf(cli.stdout, "user %s disabled=%v\n", o.name, disabled)
		return nil
	})
}

func usersList(o *adminOpts, cli adminIO) error {
	return o.withStore(func(st *auth.Store) error {
		users, err := st.Users()
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(cli.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tROLES\tSCOPE\tCREATED\tDISABLED")
		for _, u := range users {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\n", u.Name, joinRoles(u.Roles), u.Scope, u.Created.Format(time.RFC3339), u.Disabled)
		}
		return w.Flush()
	})
}

func tokensCreate(o *adminOpts, cli adminIO) error {
	roles, err := access.ParseRoles(o.roles)
	if err != nil {
		return fmt.Errorf("--role: %w", err)
	}
	return o.withStore(func(st *auth.Store) error {
		secret, tok, err := st.CreateToken(auth.NewToken{Name: o.name, Roles: roles, Scope: o.scope(), TTL: o.ttl})
		if err != nil {
			return err
		}
		audit(st, cli, auth.ActionTokenCreated, "token:"+tok.ID, tok.Name+": roles "+joinRoles(tok.Roles)+"; scope "+tok.Scope.String())
		fmt.Fprintf(cli.stderr, "token %s (%s) created; it is shown once, store it now:\n", tok.ID, tok.Name)
		fmt.Fprintln(cli.stdout, secret)
		return nil
	})
}

func tokensRevoke(o *adminOpts, cli adminIO) error {
	return o.withStore(func(st *auth.Store) error {
		tok, err := st.RevokeToken(o.id)
		if err != nil {
			return err
		}
		audit(st, cli, auth.ActionTokenRevoked, "token:"+tok.ID, tok.Name)
		fmt.Fprintf(cli.stdout, "token %s (%s) revoked\n", tok.ID, tok.Name)
		return nil
	})
}

func tokensList(o *adminOpts, cli adminIO) error {
	return o.withStore(func(st *auth.Store) error {
		w := tabwriter.NewWriter(cli.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tROLES\tSCOPE\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
		for _, t := range st.Tokens() {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, joinRoles(t.Roles), t.Scope,
				t.Created.Format(time.RFC3339), orDash(t.Expires), orDash(t.LastUsed), orDash(t.Revoked))
		}
		return w.Flush()
	})
}

func orDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func joinRoles(rs []access.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// readPassword reads the password as the first line of standard input, so
// that it never appears in the command line (and the shell history, and
// ps). A terminal gets a prompt and no echo.
func readPassword(cli adminIO) (string, error) {
	if f, ok := cli.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(cli.stderr, "password: ")
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cli.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		return string(pw), auth.CheckPassword(string(pw))
	}
	line, err := bufio.NewReader(cli.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no password on standard input (give it as the first line)")
	}
	pw := strings.TrimRight(line, "\r\n")
	if err := auth.CheckPassword(pw); err != nil {
		return "", err
	}
	return pw, nil
}

// audit records an admin command in the store's audit log; a failure is
// reported but does not undo the command.
func audit(st *auth.Store, cli adminIO, action, target, detail string) {
	if err := st.AppendAudit(auth.Record{Actor: cli.actor, Action: action, Target: target, Detail: detail, Outcome: auth.OutcomeOK}); err != nil {
		fmt.Fprintf(cli.stderr, "iocd: warning: audit record not written: %v\n", err)
	}
}
