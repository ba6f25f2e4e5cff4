package incidents

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestGolden plays every testdata/*.txt scenario with the default rules and
// compares the incidents written with testdata/*.golden.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			s := newScenario(t, nil)
			golden(t, name, s.run(f))
		})
	}
}
