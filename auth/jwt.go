package auth

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTOptions configure a Verifier. Exactly one of HMACSecret, PublicKey and
// JWKSURL is set.
type JWTOptions struct {
	// HMACSecret verifies HS256 (and HS384, HS512 when it is long enough).
	HMACSecret []byte
	// PublicKey verifies the algorithms of its type (see ParsePublicKey).
	PublicKey crypto.PublicKey
	// JWKSURL is fetched when the Verifier is built, and again when a
	// token names a kid the set lacks, at most once a minute.
	JWKSURL string
	// Issuer and Audience, when set, must be the token's iss and one of
	// its aud.
	Issuer, Audience string
	// AuthFields are the claims kept as auth fields.
	AuthFields []string
	// HTTPClient fetches the JWKS (with the callbacks' TLS settings, in
	// the router); nil means a client with FetchTimeout. The Verifier
	// closes its idle connections on Close, so give it a client of its own.
	HTTPClient *http.Client
	// FetchTimeout bounds one JWKS fetch; zero means 15s.
	FetchTimeout time.Duration
	// RefreshInterval is how often the JWKS is fetched again, so that a
	// key removed from the set stops verifying; zero means an hour.
	RefreshInterval time.Duration
	// Now is the time tokens are checked against; nil means time.Now.
	Now func() time.Time
	// Logger gets failed JWKS fetches; nil means slog.Default().
	Logger *slog.Logger
}

// MaxTokenBytes is the longest token Verify decodes. A token's header and
// claims are decoded before its signature is checked, so a client could
// otherwise make the router parse JSON as large as its frames may be
// (websocket.max_message_bytes, which an operator may raise for other
// reasons); real tokens, claims and allowed_subscriptions included, are a
// few KiB.
const MaxTokenBytes = 16 << 10

// jwksRefreshEvery is the shortest time between two fetches of the JWKS
// caused by unknown kids, so that tokens with made-up kids cannot make
// the router hammer the key server.
const jwksRefreshEvery = time.Minute

// Verifier checks JWTs against one configured key or key set. It is safe
// for concurrent use; Close ends its JWKS refreshes.
type Verifier struct {
	parser *jwt.Parser
	static any   // the HMAC secret or the public key; nil with a JWKS
	jwks   *jwks // nil without a JWKS
	fields []string
}

// NewVerifier builds a Verifier. With a JWKS URL it fetches the set once
// before returning; a failed fetch is logged, not returned, so that a key
// server that is down at start-up delays sign-ins rather than the router.
func NewVerifier(o JWTOptions) (*Verifier, error) {
	v := &Verifier{fields: slices.Clone(o.AuthFields)}
	var methods []string
	switch {
	case o.HMACSecret != nil:
		v.static = slices.Clone(o.HMACSecret)
		methods = methodsFor(v.static)
	case o.PublicKey != nil:
		v.static = o.PublicKey
		methods = methodsFor(v.static)
	case o.JWKSURL != "":
		set, err := newJWKS(o)
		if err != nil {
			return nil, err
		}
		v.jwks = set
		methods = asymmetricMethods
	default:
		return nil, errors.New("auth: no JWT key configured")
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("auth: unsupported JWT key %T", v.static)
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithJSONNumber()}
	if o.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(o.Now))
	}
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Close stops the JWKS refreshes and returns once the goroutine that ran
// them has ended; tokens can still be verified with the keys already
// fetched. It is safe to call more than once.
func (v *Verifier) Close() {
	if v.jwks != nil {
		v.jwks.close()
	}
}

// Verify checks token (signature, algorithm for the key, exp, nbf, iss,
// aud) and returns the identity its claims grant. The error says why a
// token was refused; it is for the log, not for the client.
func (v *Verifier) Verify(ctx context.Context, token string) (Identity, error) {
	if token == "" {
		return Identity{}, ErrNoToken
	}
	if len(token) > MaxTokenBytes {
		return Identity{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTokenTooLong, len(token), MaxTokenBytes)
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.keyfunc(ctx)); err != nil {
		return Identity{}, fmt.Errorf("auth: token refused: %w", err)
	}
	members := make(map[string]json.RawMessage, len(v.fields)+1)
	for _, n := range append(v.fields, AllowedKey) {
		if c, ok := claims[n]; ok {
			if b, err := json.Marshal(c); err == nil {
				members[n] = b
			}
		}
	}
	id := identityFrom(members, v.fields)
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		id.Expires = exp.Time
	}
	return id, nil
}

// keyfunc returns the key for a token whose alg is one of the parser's
// methods, and refuses an alg that does not fit the key's type.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		if v.static != nil {
			if !slices.Contains(methodsFor(v.static), alg) {
				return nil, ErrAlgorithm
			}
			return v.static, nil
		}
		key, err := v.jwks.kf.KeyfuncCtx(ctx)(t)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoKey, err)
		}
		if set, ok := key.(jwt.VerificationKeySet); ok { // a token without kid: every key that fits
			var fit jwt.VerificationKeySet
			for _, k := range set.Keys {
				if slices.Contains(methodsFor(k), alg) {
					fit.Keys = append(fit.Keys, k)
				}
			}
			if len(fit.Keys) == 0 {
				return nil, ErrNoKey
			}
			return fit, nil
		}
		if !slices.Contains(methodsFor(key), alg) {
			return nil, ErrAlgorithm
		}
		return key, nil
	}
}
