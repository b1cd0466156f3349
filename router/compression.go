package router

import (
	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/services"
)

// compressionMode maps websocket.compression to the permessage-deflate
// mode the library negotiates. The library compresses inside each
// connection's Write, so a delivery's frame is encoded once per publish
// but deflated once per compressed connection: with context takeover the
// output depends on the connection's earlier messages, and without it the
// library has no way to write bytes compressed elsewhere.
func compressionMode(name string) websocket.CompressionMode {
	switch name {
	case services.CompressionContextTakeover:
		return websocket.CompressionContextTakeover
	case services.CompressionNoContextTakeover:
		return websocket.CompressionNoContextTakeover
	default:
		return websocket.CompressionDisabled
	}
}
