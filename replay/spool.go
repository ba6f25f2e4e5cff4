package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// spool keeps batches the store did not take, one file per batch, named by
// a counter so that they drain in the order they were accepted. A file is
// written to a temporary name, synced and renamed, so a crash leaves either
// a whole batch or none; it survives a restart of the server.
type spool struct {
	dir      string
	maxBytes int64
	maxFiles int
	files    []spoolFile // oldest first
	bytes    int64
	next     uint64
}

type spoolFile struct {
	name string
	size int64
}

const spoolExt = ".json"

func openSpool(dir string, maxBytes int64, maxFiles int) (*spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("history spool: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("history spool: %w", err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, maxFiles: maxFiles, next: 1}
	for _, e := range entries {
		name := e.Name()
		n, err := strconv.ParseUint(strings.TrimSuffix(name, spoolExt), 10, 64)
		if err != nil || !strings.HasSuffix(name, spoolExt) {
			if strings.HasSuffix(name, ".tmp") {
				_ = os.Remove(filepath.Join(dir, name)) // a write cut short: never acknowledged
			}
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("history spool: %w", err)
		}
		s.files = append(s.files, spoolFile{name: name, size: info.Size()})
		s.bytes += info.Size()
		s.next = max(s.next, n+1)
	}
	// Zero-padded names sort in counter order.
	slices.SortFunc(s.files, func(a, b spoolFile) int { return strings.Compare(a.name, b.name) })
	return s, nil
}

func (s *spool) len() int { return len(s.files) }

// full reports whether another batch would exceed the bounds.
func (s *spool) full() bool {
	return len(s.files) >= s.maxFiles || s.bytes >= s.maxBytes
}

// push writes recs as the newest batch.
func (s *spool) push(recs []Record) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // properties stay byte-exact
	if err := enc.Encode(recs); err != nil {
		return fmt.Errorf("history spool: encode: %w", err)
	}
	name := fmt.Sprintf("%020d%s", s.next, spoolExt)
	tmp := filepath.Join(s.dir, name+".tmp")
	if err := writeSynced(tmp, buf.Bytes()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("history spool: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("history spool: %w", err)
	}
	s.next++
	s.files = append(s.files, spoolFile{name: name, size: int64(buf.Len())})
	s.bytes += int64(buf.Len())
	return nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// peek reads the oldest batch.
func (s *spool) peek() ([]Record, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, s.files[0].name))
	if err != nil {
		return nil, fmt.Errorf("history spool: %w", err)
	}
	var recs []Record
	if err := json.Unmarshal(data, &recs); err != nil {
		return nil, fmt.Errorf("history spool: %s: %w", s.files[0].name, err)
	}
	return recs, nil
}

// pop removes the oldest batch once the store has it.
func (s *spool) pop() error {
	f := s.files[0]
	if err := os.Remove(filepath.Join(s.dir, f.name)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("history spool: %w", err)
	}
	s.files = s.files[1:]
	s.bytes -= f.size
	return nil
}

// quarantine moves an unreadable oldest batch aside (kept for an operator)
// so that it does not block every batch behind it.
func (s *spool) quarantine() {
	f := s.files[0]
	_ = os.Rename(filepath.Join(s.dir, f.name), filepath.Join(s.dir, f.name+".bad"))
	s.files = s.files[1:]
	s.bytes -= f.size
}
