package http

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// X-Forwarded-For is believed only from trusted proxies, read right to
// left: the first address that is not a trusted proxy is the client.
func TestClientIPHonoursForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.1, 2001:db8::/32")
	require.NoError(t, err)
	_, err = ParseTrustedProxies("10.0.0.0/8, not-an-ip")
	require.Error(t, err)
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct client", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"untrusted peer's header is ignored", "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"trusted proxy", "10.1.2.3:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"a client's forged entry left of the real one", "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", "10.1.2.3:4000", []string{"198.51.100.7, 192.168.1.1", "10.9.9.9"}, "198.51.100.7"},
		{"malformed hop stops the walk", "10.1.2.3:4000", []string{"198.51.100.7, garbage"}, "10.1.2.3"},
		{"all hops trusted", "10.1.2.3:4000", []string{"10.4.4.4"}, "10.4.4.4"},
		{"IPv6 proxy", "[2001:db8::1]:4000", []string{"2001:db9::5"}, "2001:db9::5"},
		{"no header from a proxy", "10.1.2.3:4000", nil, "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			require.Equal(t, tc.want, clientIPs{trusted: trusted}.of(r))
		})
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:4000"
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	require.Equal(t, "10.1.2.3", clientIPs{}.of(r), "without TRUSTED_PROXIES the peer is the client")
}

// The cart limiter refills at its rate and forgets idle clients.
func TestRateLimiterRefillsAndForgets(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newRateLimiter(60, func() time.Time { return now })
	for range 60 {
		ok, _ := l.allow("a")
		require.True(t, ok)
	}
	ok, wait := l.allow("a")
	require.False(t, ok)
	require.Equal(t, time.Second, wait)
	now = now.Add(time.Second)
	ok, _ = l.allow("a")
	require.True(t, ok)
	ok, _ = l.allow("b")
	require.True(t, ok, "another key has its own bucket")
	now = now.Add(2 * time.Minute)
	ok, _ = l.allow("c")
	require.True(t, ok)
	require.Len(t, l.buckets, 1, "full buckets are dropped")
	require.Nil(t, newRateLimiter(0, time.Now), "0: no limit")
}
