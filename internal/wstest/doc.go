// Package wstest is the tests' one WebSocket client and one fake callback
// service: a Client speaks the router's protocol over a real WebSocket and
// reads its frames in the background, so pings and close frames are
// answered while a test waits; a Service is an httptest server standing in
// for a service's HTTP callbacks, recording every call and answering as
// the test scripts it. Both end when the test that made them ends.
package wstest
