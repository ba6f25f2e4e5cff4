package feedback

import (
	"strings"

	"github.com/danang-ioc/ioc/streams/internal/props"
)

// categoryAliases are other names of the categories, by their folded form
// (props.Fold), so "Fallen tree", "fallen-tree" and "FALLEN_TREE" need no
// entry. What is neither a category nor an alias is other, and the value
// sent is kept in categoryOriginal.
var categoryAliases = map[string]string{
	"flood": "flooded_road", "flooding": "flooded_road", "flooded": "flooded_road", "floodedstreet": "flooded_road",
	"inundation": "flooded_road",
	"tree":       "fallen_tree", "treedown": "fallen_tree", "treefallen": "fallen_tree", "downedtree": "fallen_tree",
	"fallentrees": "fallen_tree",
	"powerline":   "power_line_down", "downedpowerline": "power_line_down", "powerlinesdown": "power_line_down",
	"fallenpowerline": "power_line_down",
	"rescue":          "trapped_people", "peopletrapped": "trapped_people", "trapped": "trapped_people",
	"landslip": "landslide", "mudslide": "landslide", "rockfall": "landslide",
	"accident": "traffic_accident", "roadaccident": "traffic_accident", "crash": "traffic_accident",
	"collision": "traffic_accident", "trafficcollision": "traffic_accident",
	"waste": "garbage", "trash": "garbage", "litter": "garbage", "rubbish": "garbage", "illegaldumping": "garbage",
	"sanitation": "garbage", "garbagecollection": "garbage",
	"streetlight": "streetlight_out", "streetlights": "streetlight_out", "streetlighting": "streetlight_out",
	"brokenstreetlight": "streetlight_out", "streetlightoutage": "streetlight_out", "publiclighting": "streetlight_out",
	"trafficlight": "traffic_signal", "trafficlights": "traffic_signal", "trafficsignals": "traffic_signal",
	"brokentrafficlight": "traffic_signal",
	"potholes":           "pothole", "roaddamage": "pothole", "damagedroad": "pothole",
}

// mapCategory returns the category a sender's value names, and whether it
// names one; a value that names none is other.
func mapCategory(s string) (string, bool) {
	f := props.Fold(s)
	for _, c := range Categories {
		if props.Fold(c) == f {
			return c, true
		}
	}
	if c, ok := categoryAliases[f]; ok {
		return c, true
	}
	return "other", false
}

// categorySources are where a new report without a category takes one
// from: an Open311 request names its service instead. The first that names
// a category wins; when none does, the report is other and the first
// present is kept in categoryOriginal (the service's name reads better
// than its code).
var categorySources = []string{"service_name", "serviceName", "serviceCode", "service_code"}

// readCategory reads the category a report sends: the category, as
// mapCategory maps it. original is the value sent when it was not the
// category itself. A missing or blank category is not one.
func readCategory(p props.Props) (cat, original string, ok bool, err error) {
	raw, ok, err := p.Str("category")
	if err != nil || !ok || strings.TrimSpace(raw) == "" {
		return "", "", false, err
	}
	cat, _ = mapCategory(raw)
	if cat != raw {
		original = raw
	}
	return cat, original, true, nil
}

// serviceCategory is the category of a report without one, from its
// Open311 service (categorySources); ok is false when it names no service.
func serviceCategory(p props.Props) (cat, original string, ok bool) {
	first := ""
	for _, name := range categorySources {
		raw, has, err := p.Str(name)
		if err != nil || !has || strings.TrimSpace(raw) == "" {
			continue // pass-through attributes: not ours to refuse
		}
		if c, known := mapCategory(raw); known {
			if c == raw {
				raw = ""
			}
			return c, raw, true
		}
		if first == "" {
			first = raw
		}
	}
	return "other", first, first != ""
}

// Statuses sent in other vocabularies: Open311's open and closed depend on
// the report they apply to (see resolveStatus).
const (
	statusOpen   = "open"
	statusClosed = "closed"
)

// statusAliases map the folded status values of Open311 (open, closed)
// and of SDM IssueReporting's resolutionStatus (Open, Unassigned,
// Assigned, InProgress, "Closed.") to the workflow.
var statusAliases = map[string]string{
	"open": statusOpen, "closed": statusClosed, "unassigned": "received",
}

// statusFields are read in order: status (the IOC's, or Open311's), then
// SDM IssueReporting's resolutionStatus.
var statusFields = []string{"status", "resolutionStatus"}

// readStatus reads the status a report sends. status is a workflow status
// or statusOpen / statusClosed; original is the value sent when it was not
// the status itself; field is the property it came from. A value that is
// no status in any vocabulary is refused.
func readStatus(p props.Props) (status, original, field string, ok bool, err error) {
	for _, name := range statusFields {
		raw, has, err := p.Str(name)
		if err != nil {
			return "", "", name, false, err
		}
		if !has || strings.TrimSpace(raw) == "" {
			continue
		}
		f := props.Fold(raw)
		for _, s := range Statuses {
			if props.Fold(s) == f {
				status = s
			}
		}
		if status == "" {
			status = statusAliases[f]
		}
		if status == "" {
			return "", "", name, false, props.Invalid(props.Path(name), "unknown %s %q: valid values are %s "+
				"(also Open311 open, closed and Smart Data Models resolutionStatus Open, Unassigned, Assigned, InProgress, Closed)",
				name, raw, strings.Join(Statuses, ", "))
		}
		if status != raw || status == statusOpen || status == statusClosed {
			original = raw
		}
		return status, original, name, true, nil
	}
	return "", "", "", false, nil
}

// resolveStatus turns Open311's open and closed into a workflow status
// given the report's status at the time (current; "" for a new report):
// open keeps an open status and is received otherwise; closed keeps a
// closed one (resolved or rejected) and is resolved otherwise. Open311
// says only that a request was closed, not how: resolved is the usual
// case, and a report already rejected stays rejected.
func resolveStatus(status, current string) string {
	switch status {
	case statusOpen:
		if current != "" && isOpen(current) {
			return current
		}
		return "received"
	case statusClosed:
		if current != "" && !isOpen(current) {
			return current
		}
		return "resolved"
	}
	return status
}
