package streams

import (
	"context"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// SeenBy reports whether the principal of ctx may see f (docs/SECURITY.md):
// for the read endpoints of the standard formats (Open311 GET, the CAP
// export), which answer 404 for what lies outside the caller's scope.
// Without a principal (internal callers, unit tests; iocd's router puts one
// on every request) nothing is filtered.
func SeenBy(ctx context.Context, f *layers.Feature) bool {
	p, ok := access.FromContext(ctx)
	return !ok || p.Scope().SeesFeature(f)
}
