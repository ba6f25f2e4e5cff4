//go:build !areas_noembed

package areas

import "embed"

// data is the shipped area data with its README and licences. Build with
// the tag areas_noembed to leave it out of the binary (Default then fails
// and the areas must be loaded from files).
//
//go:embed data
var data embed.FS

const embedded = true
