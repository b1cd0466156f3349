package main

import "embed"

// The page and its scripts; /wsrouter.js, the client module, comes from
// package jsclient.
//
//go:embed static
var staticFiles embed.FS
