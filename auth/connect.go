package auth

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/wsrouter/wsrouter/callbacks"
)

// ConnectOptions configure the connect-time callback
// (authentication.connect).
type ConnectOptions struct {
	// URL is POSTed the connect body.
	URL string
	// ForwardHeaders are the request headers sent, those present.
	ForwardHeaders []string
	// AuthFields are taken from an ok answer.
	AuthFields []string
	// TrustedProxies are the peers whose X-Forwarded-For is believed; none
	// (the default) means the peer address is the remote address.
	TrustedProxies []netip.Prefix
}

// Outcome is how a connect check ended.
type Outcome int

// Outcomes of Connect; their String is the result label of
// wsrouter_connect_auth_total.
const (
	// Accepted: the application answered ok.
	Accepted Outcome = iota
	// Refused: the application answered an error.
	Refused
	// Unavailable: the application could not be reached within the tries.
	Unavailable
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "ok"
	case Refused:
		return "refused"
	default:
		return "unavailable"
	}
}

// Caller makes a callback; *callbacks.Client is one.
type Caller interface {
	Call(ctx context.Context, name, url string, body any) *callbacks.Answer
}

// ConnectBody is what the connect callback is POSTed.
type ConnectBody struct {
	Headers    map[string]string `json:"headers"`
	RemoteAddr string            `json:"remote_addr"`
	Query      map[string]string `json:"query"`
}

// NewConnectBody builds the body for req: the forwarded headers that are
// present (several values of one header joined as HTTP joins them), the
// client's address and the query (the first value of each name).
func NewConnectBody(req *http.Request, o ConnectOptions) ConnectBody {
	b := ConnectBody{Headers: map[string]string{}, Query: map[string]string{}}
	for _, name := range o.ForwardHeaders {
		vals := req.Header.Values(name)
		if len(vals) == 0 {
			continue
		}
		sep := ", "
		if strings.EqualFold(name, "Cookie") {
			sep = "; "
		}
		b.Headers[name] = strings.Join(vals, sep)
	}
	for name, vals := range req.URL.Query() {
		if len(vals) > 0 {
			b.Query[name] = vals[0]
		}
	}
	b.RemoteAddr = RemoteIP(req, o.TrustedProxies)
	return b
}

// Connect asks the application whether req may connect. On Refused, text
// is the answer's error ("" when it had none).
func Connect(ctx context.Context, c Caller, o ConnectOptions, req *http.Request) (id Identity, out Outcome, text string) {
	ans := c.Call(ctx, "connect", o.URL, NewConnectBody(req, o))
	switch {
	case ans.OK():
		return FromAnswer(ans.Fields, o.AuthFields), Accepted, ""
	case ans.Unavailable():
		return Identity{}, Unavailable, ans.Error
	default:
		return Identity{}, Refused, ans.Error
	}
}

// RemoteIP is the client's address for req. The peer's address is it,
// unless the peer is a trusted proxy: then X-Forwarded-For is read from
// the right, past every trusted proxy, and the first address that is not
// one is the client (the entries left of it were written by the client
// and prove nothing). With no trusted proxies the header is ignored.
func RemoteIP(req *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(req.RemoteAddr)
	if len(trusted) == 0 || !peer.IsValid() || !isTrusted(peer, trusted) {
		return addrString(peer, req.RemoteAddr)
	}
	hops := forwardedFor(req.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // a hop we cannot read: stop at the last one we could
		}
		client = a.Unmap()
		if !isTrusted(client, trusted) {
			break
		}
	}
	return client.String()
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func addrString(a netip.Addr, fallback string) string {
	if a.IsValid() {
		return a.String()
	}
	return fallback
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor splits X-Forwarded-For values into hops, left to right.
func forwardedFor(vals []string) []string {
	var hops []string
	for _, v := range vals {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	return hops
}

// ParseTrustedProxies reads a trusted_proxies list: each entry an IP
// address or a CIDR prefix.
func ParseTrustedProxies(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		p, err := ParseTrustedProxy(e)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseTrustedProxy reads one trusted_proxies entry.
func ParseTrustedProxy(e string) (netip.Prefix, error) {
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("auth: must be an IP address or a CIDR prefix, got %q", e)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(e)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("auth: must be an IP address or a CIDR prefix, got %q", e)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
