// Package web holds paperrec's website, embedded in the binary so that a
// user needs no front-end build: the related-work widget (widget.js), which
// any site embeds with two lines of HTML, and the landscape explorer
// (index.html, explorer.js, explorer.css), a map of every paper with search,
// filters, themes and related papers.
//
// The assets are plain HTML, CSS and JavaScript without dependencies. The
// package knows nothing of HTTP routing: package api serves what [Lookup]
// returns. Each asset comes with a strong ETag and, where it helps, a
// gzip-compressed copy.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"slices"
	"strings"
)

//go:embed static
var static embed.FS

// Asset is one file of the site, ready to serve. Its fields must not be
// modified.
type Asset struct {
	// Name is the path under the site root: "index.html", "widget.js".
	Name        string
	ContentType string
	Body        []byte
	// ETag is a strong validator over Body, quoted.
	ETag string
	// Gzip is Body compressed, nil when compression would not save bytes;
	// GzipETag is its validator.
	Gzip     []byte
	GzipETag string
	// Version is a short content hash: a URL that carries it (?v=Version)
	// names these exact bytes, so it may be cached for good.
	Version string
}

// versioned are the assets index.html references with a content version,
// so a page never mixes an old script with new markup.
var versioned = []string{"explorer.css", "explorer.js"}

// assets is every asset by name, built once at start-up; read-only after.
var assets = load()

// Lookup returns the asset with this name.
func Lookup(name string) (Asset, bool) {
	a, ok := assets[name]
	return a, ok
}

// Names returns the names of all assets, sorted.
func Names() []string {
	out := make([]string, 0, len(assets))
	for name := range assets {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func load() map[string]Asset {
	out := map[string]Asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		out[name] = newAsset(name, body)
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("web: read embedded assets: %v", err)) // the embed is broken: a build error
	}
	// Point index.html at the current versions of its script and styles.
	if idx, ok := out["index.html"]; ok {
		body := idx.Body
		for _, name := range versioned {
			ref := []byte(`"` + name + `"`)
			if !bytes.Contains(body, ref) {
				panic("web: index.html does not reference " + name)
			}
			body = bytes.ReplaceAll(body, ref, []byte(`"`+name+`?v=`+out[name].Version+`"`))
		}
		out["index.html"] = newAsset("index.html", body)
	}
	return out
}

func newAsset(name string, body []byte) Asset {
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) { // do not depend on the host's MIME tables
	case ".html":
		ct = "text/html; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	}
	sum := sha256.Sum256(body)
	tag := base64.RawURLEncoding.EncodeToString(sum[:12])
	a := Asset{Name: name, ContentType: ct, Body: body, ETag: `"` + tag + `"`, Version: tag[:10]}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	zw.Write(body)                                           // writes to a bytes.Buffer do not fail
	zw.Close()
	if buf.Len() < len(body) {
		a.Gzip, a.GzipETag = buf.Bytes(), `"`+tag+`-gz"`
	}
	return a
}
