//go:build areas_noembed

package areas

import "embed"

// data is empty: this binary was built with the tag areas_noembed.
var data embed.FS

const embedded = false
