package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		want     []string // substrings of the output
		dontWant []string
	}{
		{"defaults with a fresh data dir", []string{"--data-dir", filepath.Join(dir, "new", "data")}, nil, 0,
			[]string{"configuration OK", "--addr=:8080  [default]", "[flag]"}, nil},
		{"environment is read and named", []string{"--data-dir", dir}, map[string]string{"IOC_LOG_LEVEL": "debug"}, 0,
			[]string{"--log-level=debug  [IOC_LOG_LEVEL]"}, nil},
		{"password is masked", []string{"--data-dir", dir}, map[string]string{"IOC_CLICKHOUSE_PASSWORD": "hunter2"}, 0,
			[]string{"--clickhouse-password=(set, not shown)"}, []string{"hunter2"}},
		{"password in a URL is masked", []string{"--data-dir", dir, "--mqtt", "tcp://feed:hunter2@127.0.0.1:1883"}, nil, 0,
			[]string{"--mqtt=tcp://feed:xxxxx@127.0.0.1:1883  [flag]"}, []string{"hunter2"}},
		{"bad flag value", []string{"--log-format", "xml"}, nil, 2, []string{"--log-format"}, nil},
		{"data dir is a file", []string{"--data-dir", notADir}, nil, 2, []string{"--data-dir:", "is not a directory"}, nil},
		{"missing areas file", []string{"--data-dir", dir, "--areas", filepath.Join(dir, "nope.geojson")}, nil, 2,
			[]string{"--areas:", "nope.geojson"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			code := checkConfig(tt.args, func(k string) string { return tt.env[k] }, &out)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tt.wantCode, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output shows %q:\n%s", w, out.String())
				}
			}
		})
	}
}
