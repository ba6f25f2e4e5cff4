package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/danang-ioc/ioc/geo/areas"
)

// configChecks are the checks `iocd checkconfig` runs beyond flag parsing
// and validation: the ones that read files or the data directory, which
// validate() leaves to startup. Each names the setting it checks.
var configChecks = []struct {
	setting string
	check   func(*Config) error
}{
	{"--data-dir", checkDataDir},
	{"--areas", func(c *Config) error { _, err := areas.DefaultWith(c.areaFiles()...); return err }},
}

// checkConfig validates a configuration (flags after "checkconfig" plus
// the IOC_ environment) without starting anything, prints the effective
// settings with secrets masked, and returns the process exit code: 0 when
// the configuration is usable, 2 when it is not.
func checkConfig(args []string, getenv func(string) string, out io.Writer) int {
	cfg, err := parseConfig(args, getenv, out)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(out, "iocd checkconfig: invalid:", err)
		return 2
	}
	var problems []string
	for _, c := range configChecks {
		if err := c.check(cfg); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", c.setting, err))
		}
	}
	writeEffectiveConfig(out, args, getenv)
	if len(problems) > 0 {
		fmt.Fprintf(out, "iocd checkconfig: invalid:\n  %s\n", strings.Join(problems, "\n  "))
		return 2
	}
	fmt.Fprintln(out, "iocd checkconfig: configuration OK")
	return 0
}

// checkDataDir proves the data directory can be written: an existing one
// by creating and removing a file in it, a missing one by its nearest
// existing parent being a writable directory.
func checkDataDir(c *Config) error {
	dir := filepath.Clean(c.DataDir)
	for {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", dir)
			}
			f, err := os.CreateTemp(dir, ".checkconfig-*")
			if err != nil {
				return fmt.Errorf("not writable: %w", err)
			}
			f.Close()
			return os.Remove(f.Name())
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return fmt.Errorf("no existing parent of %s", c.DataDir)
		}
		dir = parent
	}
}

// writeEffectiveConfig lists every setting with the value in effect and
// where it came from; secrets are shown only as set or empty.
func writeEffectiveConfig(out io.Writer, args []string, getenv func(string) string) {
	c := &Config{}
	fs := flag.NewFlagSet("iocd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.define(fs)
	_ = fs.Parse(args) // already parsed successfully by parseConfig
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		value, source := f.Value.String(), "default"
		switch {
		case onCommandLine[f.Name]:
			source = "flag"
		case getenv(envName(f.Name)) != "":
			value, source = getenv(envName(f.Name)), envName(f.Name)
		}
		value = redact(f.Name, value)
		fmt.Fprintf(out, "  --%s=%s  [%s]\n", f.Name, value, source)
	})
}

// redact hides what must never be printed or logged: the value of a
// secret setting, and the password inside a URL (user:password@host).
func redact(flagName, value string) string {
	if value == "" {
		return value
	}
	for _, s := range []string{"password", "secret", "token"} {
		if strings.Contains(flagName, s) {
			return "(set, not shown)"
		}
	}
	if u, err := url.Parse(value); err == nil && u.User != nil {
		return u.Redacted()
	}
	return value
}
