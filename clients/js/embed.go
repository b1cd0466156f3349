// Package jsclient embeds the JavaScript client, so that Go programs such as
// the books example serve the very file that is published, without a copy.
// It is not part of the npm package (see package.json "files").
package jsclient

import _ "embed"

// Module is wsrouter.js, the client as an ES module.
//
//go:embed wsrouter.js
var Module []byte
