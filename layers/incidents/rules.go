package incidents

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed rules.default.yaml
var defaultRules []byte

// DefaultRulesName is the name validation errors give the embedded rules.
const DefaultRulesName = "rules.default.yaml (embedded)"

// RuleSet is a rules file: the rules, how related incidents fuse, and the
// defaults that apply when neither says otherwise.
type RuleSet struct {
	// Version must be 1.
	Version int `yaml:"version"`
	// Fuse is how far apart (metres) and how long after an open incident's
	// last evidence a match of the same category still joins it.
	Fuse FuseDefaults `yaml:"fuse"`
	// Rules raise incidents.
	Rules []*Rule `yaml:"rules"`
	// Fusion relates categories: a match of one joins an open incident of
	// another in the same group.
	Fusion []*Fusion `yaml:"fusion"`
}

// FuseDefaults applies to matches of the same category.
type FuseDefaults struct {
	Radius float64  `yaml:"radius"` // metres; default 500
	Window Duration `yaml:"window"` // default 1h
}

// Rule kinds.
const (
	KindThreshold = "threshold"
	KindRate      = "rate"
	KindStale     = "stale"
	KindCount     = "count"
)

// Rule is one condition on the changes of one layer.
type Rule struct {
	Name     string   `yaml:"name"`
	Layer    string   `yaml:"layer"`
	Kind     string   `yaml:"kind"`
	Category string   `yaml:"category"`
	Severity Severity `yaml:"severity"`
	// Title is the incident title; {place} is replaced by the area name,
	// {group} by the groupBy value of a count rule. Default
	// "<Category> at {place}".
	Title string `yaml:"title"`
	// When holds conditions "<property> <op> <value>", all of which must
	// hold: the condition of a threshold rule, a filter for the others.
	When []string `yaml:"when"`
	// For (threshold): the condition must hold this long, judged on the
	// entity's observation times.
	For Duration `yaml:"for"`
	// Property and PerHour (rate): the property must change by at least
	// PerHour units per hour over Window (negative: fall that fast).
	Property string  `yaml:"property"`
	PerHour  float64 `yaml:"perHour"`
	// Window: rate, the span of readings the slope is taken over (default
	// 1h); count, how recent the counted entities must be.
	Window Duration `yaml:"window"`
	// Count, Radius (metres) and GroupBy (count): at least Count entities
	// within Radius of the newest, with the same GroupBy property value.
	Count   int     `yaml:"count"`
	Radius  float64 `yaml:"radius"`
	GroupBy string  `yaml:"groupBy"`
	// ClearAfter, when set, closes the incident by itself once every
	// condition that raised it has been clear this long.
	ClearAfter Duration `yaml:"clearAfter"`

	conds []cond
	index int // position in the rule set, for stable ordering
}

// Fusion is a group of related categories.
type Fusion struct {
	Name       string   `yaml:"name"`
	Categories []string `yaml:"categories"`
	Radius     float64  `yaml:"radius"` // metres
	Window     Duration `yaml:"window"`
	// Category and Title, when set, rename an incident once it holds
	// evidence of two categories of the group.
	Category string `yaml:"category"`
	Title    string `yaml:"title"`
	// Raise sets the incident's severity at least to Severity once its
	// evidence comes from at least Layers different layers.
	Raise *Raise `yaml:"raise"`
}

// Raise is a fusion's escalation.
type Raise struct {
	Layers   int      `yaml:"layers"`
	Severity Severity `yaml:"severity"`
}

// Duration is a time.Duration written as "90s", "30m", "2h".
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("want a duration such as 30m, got %q", n.Value)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("want a non-negative duration such as 30m, got %q", s)
	}
	*d = Duration(v)
	return nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// LoadRules reads and validates a rules file; path "" gives the embedded
// defaults.
func LoadRules(path string) (*RuleSet, error) {
	if path == "" {
		return ParseRules(DefaultRulesName, defaultRules)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return ParseRules(path, b)
}

// DefaultRules returns the embedded rules.
func DefaultRules() *RuleSet {
	rs, err := ParseRules(DefaultRulesName, defaultRules)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return rs
}

// maxRules bounds a rules file, so that a mistaken file cannot make the
// engine evaluate without limit.
const maxRules = 10000

// ParseRules decodes and validates a rules file; name is used in errors.
// Unknown fields are refused, so a misspelt field does not silently fall
// back to its default.
func ParseRules(name string, b []byte) (*RuleSet, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var rs RuleSet
	if err := dec.Decode(&rs); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty rules file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := rs.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &rs, nil
}

var (
	namePattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	categoryPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

func (rs *RuleSet) validate() error {
	if rs.Version != 1 {
		return fmt.Errorf("version: want 1, got %d", rs.Version)
	}
	if rs.Fuse.Radius < 0 {
		return fmt.Errorf("fuse.radius: want metres >= 0, got %v", rs.Fuse.Radius)
	}
	if rs.Fuse.Radius == 0 {
		rs.Fuse.Radius = 500
	}
	if rs.Fuse.Window == 0 {
		rs.Fuse.Window = Duration(time.Hour)
	}
	if len(rs.Rules) > maxRules {
		return fmt.Errorf("rules: at most %d rules, got %d", maxRules, len(rs.Rules))
	}
	seen := map[string]bool{}
	for i, r := range rs.Rules {
		if r == nil {
			return fmt.Errorf("rules[%d]: empty rule", i)
		}
		if err := r.validate(); err != nil {
			return fmt.Errorf("rule %q (rules[%d]): %w", r.Name, i, err)
		}
		if seen[r.Name] {
			return fmt.Errorf("rule %q (rules[%d]): name: used by an earlier rule", r.Name, i)
		}
		seen[r.Name] = true
		r.index = i
	}
	return rs.validateFusion()
}

func (rs *RuleSet) validateFusion() error {
	grouped := map[string]string{}
	for i, f := range rs.Fusion {
		if f == nil {
			return fmt.Errorf("fusion[%d]: empty entry", i)
		}
		if err := f.validate(); err != nil {
			return fmt.Errorf("fusion %q (fusion[%d]): %w", f.Name, i, err)
		}
		for _, c := range f.Categories {
			if other, ok := grouped[c]; ok {
				return fmt.Errorf("fusion %q (fusion[%d]): categories: %q is already in fusion %q; a category belongs to one group", f.Name, i, c, other)
			}
			grouped[c] = f.Name
		}
	}
	return nil
}

func (r *Rule) validate() error {
	if err := r.validateCommon(); err != nil {
		return err
	}
	switch r.Kind {
	case KindThreshold:
		if len(r.When) == 0 {
			return errors.New("when: a threshold rule needs at least one condition")
		}
	case KindRate:
		if r.Property == "" {
			return errors.New("property: a rate rule needs the numeric property whose change it measures")
		}
		if r.PerHour == 0 {
			return errors.New("perHour: want a non-zero rate (positive: rising at least this fast, negative: falling)")
		}
		if r.Window == 0 {
			r.Window = Duration(time.Hour)
		}
	case KindStale:
	case KindCount:
		if r.Count < 2 {
			return fmt.Errorf("count: want at least 2, got %d", r.Count)
		}
		if r.Radius <= 0 {
			return fmt.Errorf("radius: want metres > 0, got %v", r.Radius)
		}
		if r.Window <= 0 {
			return errors.New("window: a count rule needs the time window its entities must fall in, e.g. 30m")
		}
	default:
		return fmt.Errorf("kind: want threshold, rate, stale or count, got %q", r.Kind)
	}
	if r.For != 0 && r.Kind != KindThreshold {
		return errors.New("for: only threshold rules are sustained")
	}
	return nil
}

func (r *Rule) validateCommon() error {
	switch {
	case r.Name == "":
		return errors.New("name: required")
	case !namePattern.MatchString(r.Name):
		return fmt.Errorf("name: want lower-case letters, digits, '.', '_', '-', got %q", r.Name)
	case r.Layer == "":
		return errors.New("layer: required")
	case r.Layer == Layer:
		return fmt.Errorf("layer: rules cannot watch %s itself", Layer)
	case !categoryPattern.MatchString(r.Category):
		return fmt.Errorf("category: want a lower-case word such as flooding, got %q", r.Category)
	case !r.Severity.valid():
		return fmt.Errorf("severity: want info, minor, major or critical, got %q", r.Severity)
	}
	r.conds = r.conds[:0]
	for i, w := range r.When {
		c, err := parseCond(w)
		if err != nil {
			return fmt.Errorf("when[%d]: %w", i, err)
		}
		r.conds = append(r.conds, c)
	}
	return nil
}

func (f *Fusion) validate() error {
	switch {
	case f.Name == "":
		return errors.New("name: required")
	case len(f.Categories) == 0:
		return errors.New("categories: required (one category widens its own radius and window; several relate them)")
	case f.Radius <= 0:
		return fmt.Errorf("radius: want metres > 0, got %v", f.Radius)
	case f.Window <= 0:
		return errors.New("window: want a duration such as 2h")
	case f.Category != "" && !categoryPattern.MatchString(f.Category):
		return fmt.Errorf("category: want a lower-case word, got %q", f.Category)
	}
	for i, c := range f.Categories {
		if !categoryPattern.MatchString(c) {
			return fmt.Errorf("categories[%d]: want a lower-case word, got %q", i, c)
		}
	}
	if f.Raise != nil {
		if f.Raise.Layers < 2 {
			return fmt.Errorf("raise.layers: want at least 2, got %d", f.Raise.Layers)
		}
		if !f.Raise.Severity.valid() {
			return fmt.Errorf("raise.severity: want info, minor, major or critical, got %q", f.Raise.Severity)
		}
	}
	return nil
}

// title returns the rule's title with the place and group filled in.
func (r *Rule) title(place, group string) string {
	t := fillTitle(r.Title, r.Category, place)
	return strings.ReplaceAll(t, "{group}", humanize(group))
}

func fillTitle(tmpl, category, place string) string {
	if tmpl == "" {
		tmpl = humanize(category) + " at {place}"
	}
	if place == "" {
		place = "unknown place"
	}
	return strings.ReplaceAll(tmpl, "{place}", place)
}

// humanize turns "air_quality" into "Air quality".
func humanize(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
