package main

import "embed"

// The page and its scripts. static/wsrouter.js is a copy of
// clients/js/wsrouter.js (a test checks they are equal); refresh it with
// `go generate ./examples/books`.
//
//go:generate cp ../../clients/js/wsrouter.js static/wsrouter.js
//go:embed static
var staticFiles embed.FS
