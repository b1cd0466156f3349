// Package auth owns the authentication methods that do not go through a
// ticket (SPEC section 12): the connect-time callback that checks an
// upgrade request's cookies and headers with the application, JWT
// verification with an HMAC secret, a PEM public key or a JWKS URL, and
// the allowed-subscription patterns any method may grant. The router asks
// it; it asks package callbacks. It knows nothing of sessions.
package auth
