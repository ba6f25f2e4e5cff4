package layers

import (
	"errors"
	"testing"
)

func TestLogCapacityRounding(t *testing.T) {
	for _, tc := range []struct{ size, want int }{
		{-1, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 4}, {5, 8}, {8, 8}, {1000, 1024}, {1024, 1024}, {1025, 2048}, {1 << 18, 1 << 18},
	} {
		if got := NewLog(tc.size).Capacity(); got != tc.want {
			t.Errorf("NewLog(%d).Capacity() = %d, want %d", tc.size, got, tc.want)
		}
	}
}

// appendN appends n changes and returns their sequence numbers.
func appendN(l *Log, n int) []uint64 {
	cs := make([]Change, n)
	for i := range cs {
		cs[i].Kind = KindUpsert
	}
	l.append(cs)
	seqs := make([]uint64, n)
	for i := range cs {
		seqs[i] = cs[i].Seq
	}
	return seqs
}

func seqsOf(cs []Change) []uint64 {
	out := make([]uint64, len(cs))
	for i, c := range cs {
		out[i] = c.Seq
	}
	return out
}

func TestLogRead(t *testing.T) {
	l := NewLog(5) // holds 8
	if l.Last() != 0 || l.Oldest() != 1 {
		t.Fatalf("empty log: last %d oldest %d", l.Last(), l.Oldest())
	}
	if got, err := l.Read(nil, 1, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty log Read = %v, %v", got, err)
	}
	if got := appendN(l, 5); got[0] != 1 || got[4] != 5 {
		t.Fatalf("append numbered %v", got)
	}

	type read struct {
		from uint64
		max  int
		want []uint64
		err  error
	}
	check := func(stage string, reads []read) {
		t.Helper()
		for _, r := range reads {
			got, err := l.Read(nil, r.from, r.max)
			if !errors.Is(err, r.err) {
				t.Errorf("%s: Read(from %d, max %d) error %v, want %v", stage, r.from, r.max, err, r.err)
				continue
			}
			if s := seqsOf(got); !equalSeqs(s, r.want) {
				t.Errorf("%s: Read(from %d, max %d) = %v, want %v", stage, r.from, r.max, s, r.want)
			}
		}
	}
	check("5 changes", []read{
		{1, 10, []uint64{1, 2, 3, 4, 5}, nil},
		{1, 2, []uint64{1, 2}, nil},
		{3, 2, []uint64{3, 4}, nil},
		{5, 10, []uint64{5}, nil},
		{6, 10, nil, nil}, // caught up
		{100, 10, nil, nil},
		{2, 0, nil, nil},
		{0, 10, nil, ErrTruncated}, // sequences start at 1
	})

	// Wrap around: 11 changes in a ring of 8 keep 4..11.
	appendN(l, 6)
	if l.Last() != 11 || l.Oldest() != 4 {
		t.Fatalf("after wrap: last %d oldest %d", l.Last(), l.Oldest())
	}
	check("after wrap", []read{
		{1, 10, nil, ErrTruncated},
		{3, 10, nil, ErrTruncated},
		{4, 100, []uint64{4, 5, 6, 7, 8, 9, 10, 11}, nil},
		{8, 3, []uint64{8, 9, 10}, nil},
		{11, 3, []uint64{11}, nil},
		{12, 3, nil, nil},
	})

	// A reader that fell behind while it was reading gets ErrTruncated on
	// its next call, not stale entries from the next lap of the ring.
	next := uint64(9)
	appendN(l, 8) // last 19, oldest 12
	check("reader lapped", []read{{next, 4, nil, ErrTruncated}, {12, 100, []uint64{12, 13, 14, 15, 16, 17, 18, 19}, nil}})

	// Read appends to dst.
	dst := []Change{{Seq: 999}}
	dst, err := l.Read(dst, 18, 5)
	if err != nil || !equalSeqs(seqsOf(dst), []uint64{999, 18, 19}) {
		t.Errorf("Read into dst = %v, %v", seqsOf(dst), err)
	}
	dst, err = l.Read(dst[:1], 1, 5)
	if !errors.Is(err, ErrTruncated) || len(dst) != 1 {
		t.Errorf("truncated Read changed dst: %v, %v", seqsOf(dst), err)
	}
}

func TestLogSizeOne(t *testing.T) {
	l := NewLog(1)
	appendN(l, 3)
	if got, err := l.Read(nil, 3, 5); err != nil || !equalSeqs(seqsOf(got), []uint64{3}) {
		t.Errorf("Read(3) = %v, %v", seqsOf(got), err)
	}
	if _, err := l.Read(nil, 2, 5); !errors.Is(err, ErrTruncated) {
		t.Errorf("Read(2) error %v", err)
	}
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
