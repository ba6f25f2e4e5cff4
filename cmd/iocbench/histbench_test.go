package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
)

func TestHistOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{}, "name a store"},
		{[]string{"--embedded-dir", "x", "--span", "1h"}, "--span must be at least 2h"},
		{[]string{"--embedded-dir", "x", "--span", "3h", "--replay", "3h"}, "longer than --replay"},
		{[]string{"--embedded-dir", "x", "--batch", "0"}, "must be positive"},
		{[]string{"--embedded-dir", "x", "--start", "yesterday"}, "--start"},
		{[]string{"--embedded-dir", "x", "--resume-after", "noon"}, "--resume-after"},
		{[]string{"--clickhouse", "127.0.0.1:9000"}, ""},
	} {
		_, err := parseHistOptions(tc.args, &bytes.Buffer{})
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("parseHistOptions(%q) = %v; want error containing %q", tc.args, err, tc.err)
		}
	}
}

// TestHistoryEmbedded runs the whole history mode on a small span of the
// simulated city in the embedded store and checks that every part measured
// something real.
func TestHistoryEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two hours of city history")
	}
	o, err := parseHistOptions([]string{"--embedded-dir", t.TempDir(), "--span", "2h", "--keyframe-interval", "30m",
		"--states", "3", "--series", "3", "--replay", "30m", "--replay-speed", "7200"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := runHistory(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	g := res.Generate
	// The city at scale 1 reports about 18 events per simulated second.
	if g.Records < 2*3600*10 || g.Entities < 5000 || g.Keyframes < 3 || g.Keyframes > 4 || g.AppendRate <= 0 {
		t.Errorf("generate = %+v; want ~130,000 records of >5,000 entities and keyframes at 30m, 1h, 1h30 (and 2h)", g)
	}
	if res.StateAt.Queries != 3 || res.StateAt.MeanRows < 5000 {
		t.Errorf("state at = %+v; want 3 queries of the whole city", res.StateAt)
	}
	if res.Series.Queries != 3 || res.Series.MeanRows == 0 {
		t.Errorf("series = %+v; want 3 non-empty series", res.Series)
	}
	r := res.Replay
	if r.Features < 5000 || r.Upserts == 0 || r.Frames < 3 || r.RealSeconds <= 0 || r.HistPerSecond <= 0 {
		t.Errorf("replay = %+v; want a city snapshot, diffs and an end", r)
	}
}

func TestFrameHeader(t *testing.T) {
	for _, tc := range []struct {
		frame, typ, at string
		features       int
		err            bool
	}{
		{`{"type":"snapshot","replay":true,"time":"2026-10-01T00:00:00Z","features":[{"type":"Feature","id":"a"},{"type":"Feature","id":"b"}]}`,
			"snapshot", "2026-10-01T00:00:00Z", 2, false},
		{`{"type":"diff","replay":true,"time":"2026-10-01T00:00:01.5Z","upserts":[{"type":"Feature"}],"deletes":[]}`,
			"diff", "2026-10-01T00:00:01.5Z", 1, false},
		{`{"type":"replay_end","replay":true,"time":"2026-10-02T00:00:00Z"}`, "replay_end", "2026-10-02T00:00:00Z", 0, false},
		{`{"replay":true}`, "", "", 0, true},
		{`{"type":"diff","time":"yesterday"}`, "", "", 0, true},
		{`{"type":"diff","time":"2026`, "", "", 0, true},
	} {
		typ, at, n, err := frameHeader([]byte(tc.frame))
		if tc.err {
			if err == nil {
				t.Errorf("frameHeader(%s) = nil error", tc.frame)
			}
			continue
		}
		if err != nil || typ != tc.typ || at.Format(time.RFC3339Nano) != tc.at || n != tc.features {
			t.Errorf("frameHeader(%s) = %q %v %d %v; want %q %s %d", tc.frame, typ, at, n, err, tc.typ, tc.at, tc.features)
		}
	}
}

// TestGenerateResume: a generation resumed after a city time stores only
// what follows it, and keyframes only after it.
func TestGenerateResume(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two hours of city history")
	}
	dir := t.TempDir()
	o, err := parseHistOptions([]string{"--embedded-dir", dir, "--span", "2h", "--keyframe-interval", "30m",
		"--resume-after", "2026-10-01T01:00:00Z", "--replay", "0"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, _, err := openHistStore(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	g, err := generateHistory(ctx, o, store, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Records < 3600*10 || g.Keyframes < 1 || g.Keyframes > 2 {
		t.Errorf("resumed generation = %d records, %d keyframes; want an hour of the city and keyframes at 1h30 (and 2h)", g.Records, g.Keyframes)
	}
	var before int
	err = store.Range(ctx, time.Time{}, o.resumeAfter, nil, geo.Rect{}, func(replay.Record) error { before++; return nil })
	if err != nil || before != 0 {
		t.Errorf("records at or before --resume-after = %d, %v; want none", before, err)
	}
}
