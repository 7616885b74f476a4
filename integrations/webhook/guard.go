package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/honten/honten/domain/errs"
)

// cgnat is the carrier-grade NAT range (RFC 6598), private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// privateAddr reports whether a is an address a webhook must not reach
// from production: loopback, private (RFC 1918, fc00::/7), link-local
// (cloud metadata services live at 169.254.169.254), carrier-grade NAT,
// multicast or unspecified.
func privateAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a)
}

// CheckURL validates an endpoint URL: absolute http or https, a host, no
// credentials, at most 2,000 characters; without allowPrivate, neither
// "localhost" nor an address literal that is private (see privateAddr).
// Host names are checked again, resolved, when a delivery connects. It
// returns an Invalid error for field "url".
func CheckURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "" || len(raw) > 2000:
		return errs.Field("url", "must be an http or https URL of at most 2000 characters")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		return errs.Field("url", "must be an absolute http or https URL")
	case u.User != nil:
		return errs.Field("url", "must not carry credentials")
	case u.Fragment != "":
		return errs.Field("url", "must not have a fragment")
	}
	if allowPrivate {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return errs.Field("url", "must not point at this machine")
	}
	if a, err := netip.ParseAddr(host); err == nil && privateAddr(a) {
		return errs.Field("url", "must not point at a private, loopback or link-local address")
	}
	return nil
}

// errPrivate is the dial error for a refused address.
type errPrivate struct{ addr string }

func (e errPrivate) Error() string {
	return fmt.Sprintf("webhook: refused to connect to private address %s (set WEBHOOK_ALLOW_PRIVATE for development)", e.addr)
}

// guardedDialer returns a DialContext that refuses private addresses (the
// address after DNS resolution, so a name cannot be pointed at one later),
// unless allowPrivate.
func guardedDialer(allowPrivate bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return errPrivate{address}
			}
			if privateAddr(ap.Addr()) {
				return errPrivate{address}
			}
			return nil
		}
	}
	return d.DialContext
}
