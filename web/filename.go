package web

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxStem bounds a file name before ".json", well under the 255 bytes file
// systems allow.
const maxStem = 200

// FileName is the name of a paper's file in a static export (paperrec
// export --format static), the name widget.js fetches for "{file}" in its
// data-src attribute. Bytes outside [A-Za-z0-9._-], and a leading '.', are
// written as ~XX (upper-case hex), so the name needs no further escaping in
// a URL, holds no '/', and two IDs never share a name. A name that would
// pass maxStem bytes is cut and ends in "~~" and a hash of the ID; widget.js
// does not compute those: look such papers up in the export's index.json.
func FileName(id string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			b.WriteByte('~')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	name := b.String()
	if name == "" {
		name = "~" // IDs are never empty; this keeps the name visible and unique
	}
	if len(name) > maxStem {
		// "~~" never occurs in an escaped name, so a cut name cannot equal
		// an uncut one; the cut does not split an escape.
		cut := maxStem - 18
		if i := strings.LastIndexByte(name[:cut], '~'); i >= cut-2 {
			cut = i
		}
		sum := sha256.Sum256([]byte(id))
		name = name[:cut] + "~~" + hex.EncodeToString(sum[:8])
	}
	return name + ".json"
}
