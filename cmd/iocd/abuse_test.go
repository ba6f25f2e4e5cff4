package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bodyEndpoints is every route that reads a request body.
var bodyEndpoints = []string{
	"POST /api/v1/events", "POST /api/v1/cap", "POST /api/v1/layers/traffic.cameras/within",
	"POST /api/v1/zones", "POST /api/v1/zones/x/close", "POST /api/v1/incidents/x/actions",
	"POST /api/v1/auth/login", "POST /api/v1/auth/users", "POST /api/v1/auth/tokens",
	"POST /open311/v2/requests.json", "POST /ngsi-ld/v1/entities", "PATCH /ngsi-ld/v1/entities/x/attrs",
	"POST /ngsi-ld/v1/entityOperations/upsert", "POST /v2/entities", "POST /v2/notify", "POST /v2/op/update",
}

// The abuse suite: bad bodies at every endpoint that takes one are clear
// 4xx errors, never a 5xx or a crash, and the server keeps serving.
func TestAbusiveBodies(t *testing.T) {
	dir := t.TempDir()
	tokens := makeTokens(t, dir)
	base := startSecured(t, dir, "--max-body", "1048576")
	bodies := map[string]string{
		"malformed JSON":  `{"layer":"traffic.cameras","id":`,
		"deeply nested":   strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
		"deeply nested {": strings.Repeat(`{"a":`, 50000) + "1" + strings.Repeat("}", 50000),
		"invalid UTF-8":   "{\"name\":\"\xff\xfe\xfd\",\"layer\":\"traffic.cameras\",\"id\":\"\xc3\x28\"}",
		"huge":            `{"name":"` + strings.Repeat("x", 5<<20) + `"}`,
	}
	for name, body := range bodies {
		for _, ep := range bodyEndpoints {
			method, path, _ := strings.Cut(ep, " ")
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tokens["admin"])
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				// A server may answer 413 and close before the client
				// finished sending a huge body: the client then sees the
				// reset. Anything else is a failure.
				if name != "huge" {
					t.Errorf("%s %s: %v", name, ep, err)
				}
				continue
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s at %s: status %d, want a 4xx", name, ep, resp.StatusCode)
			}
		}
	}
	if r := call(t, "GET", base+"/healthz", "", ""); r.status != 200 {
		t.Fatalf("server unhealthy after the abuse: %d", r.status)
	}
}

// rawRequest writes raw bytes to the server and returns what it answered
// and how long the connection stayed open.
func rawRequest(t *testing.T, base string, write func(net.Conn) error) (string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	_ = write(conn) // fails once the server has cut the connection
	b, _ := io.ReadAll(conn)
	return string(b), time.Since(start)
}

// A slowloris client, sending its headers or its body a byte at a time,
// is cut off by the read timeouts rather than holding a connection.
func TestSlowClientsAreCutOff(t *testing.T) {
	dir := t.TempDir()
	tokens := makeTokens(t, dir)
	base := startSecured(t, dir, "--read-header-timeout", "1s", "--read-timeout", "2s")
	trickle := func(c net.Conn, s string) error {
		for i := 0; i < len(s); i++ {
			if _, err := c.Write([]byte{s[i]}); err != nil {
				return err
			}
			time.Sleep(200 * time.Millisecond)
		}
		return nil
	}
	slowHeaders := func(c net.Conn) error {
		return trickle(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 100)+"\r\n\r\n")
	}
	if _, took := rawRequest(t, base, slowHeaders); took > 6*time.Second {
		t.Errorf("slow headers held the connection %v (read-header-timeout 1s)", took)
	}
	slowBody := func(c net.Conn) error {
		head := "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer " +
			tokens["admin"] + "\r\nContent-Length: 200\r\n\r\n"
		if _, err := c.Write([]byte(head)); err != nil {
			return err
		}
		return trickle(c, strings.Repeat(" ", 200))
	}
	if _, took := rawRequest(t, base, slowBody); took > 8*time.Second {
		t.Errorf("a slow body held the connection %v (read-timeout 2s)", took)
	}
}

// Static files cannot be used to read outside the web app's directory.
func TestPathTraversalOnStaticFiles(t *testing.T) {
	dir := t.TempDir()
	web := filepath.Join(dir, "www")
	if err := os.MkdirAll(web, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(web, "index.html"), []byte("<html>ok</html>"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("TOP-SECRET"), 0o644)
	for _, args := range [][]string{nil, {"--web-dir", web}} {
		base := startSecured(t, t.TempDir(), args...)
		for _, p := range []string{"/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/app/../../secret.txt",
			"/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/../../../../etc/passwd", "/..\\secret.txt", "//etc/passwd"} {
			got, _ := rawRequest(t, base, func(c net.Conn) error {
				_, err := c.Write([]byte("GET " + p + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
				return err
			})
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
			if err != nil {
				t.Errorf("%v GET %s: unreadable answer %q", args, p, got)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			if bytes.Contains(body, []byte("TOP-SECRET")) || bytes.Contains(body, []byte("root:")) {
				t.Errorf("%v GET %s: path traversal served %q", args, p, body)
			}
			if resp.StatusCode == 200 && !bytes.Contains(body, []byte("<html")) {
				t.Errorf("%v GET %s: 200 with %q", args, p, body)
			}
		}
	}
}

// A token over --ingest-rate gets 429 with Retry-After, counted.
func TestIngestRateLimit(t *testing.T) {
	dir := t.TempDir()
	tokens := makeTokens(t, dir)
	base := startSecured(t, dir, "--ingest-rate", "0.5", "--ingest-burst", "2")
	var codes []int
	var last result
	for range 3 {
		last = call(t, "POST", base+"/api/v1/events", tokens["ingest"], "[]")
		codes = append(codes, last.status)
	}
	if codes[0] == 429 || codes[1] == 429 || codes[2] != 429 || last.header.Get("Retry-After") == "" {
		t.Fatalf("statuses %v, Retry-After %q; want the third refused with 429 and Retry-After", codes, last.header.Get("Retry-After"))
	}
	if r := call(t, "POST", base+"/api/v1/events", tokens["admin"], "[]"); r.status == 429 {
		t.Error("another token was limited by the first one's bucket")
	}
	m := call(t, "GET", base+"/metrics", tokens["monitor"], "")
	if !strings.Contains(m.body, "ioc_ingest_rate_limited_total 1") {
		t.Errorf("rate-limited requests not counted in /metrics")
	}
}
