package files

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// emptyPayload is the SHA-256 of an empty body, the payload hash of a GET.
const emptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// credentials sign requests with AWS Signature Version 4.
type credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Region, Service                            string
}

// sign adds X-Amz-Date, X-Amz-Content-Sha256 (and X-Amz-Security-Token)
// and the Authorization header to req. Every header req carries when it
// is signed is signed, with Host; the transport's own (User-Agent,
// Accept-Encoding) are added later and stay out.
func (c credentials) sign(req *http.Request, payloadHash string, now time.Time) {
	stamp := now.UTC().Format("20060102T150405Z")
	req.Header.Set("X-Amz-Date", stamp)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if c.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", c.SessionToken)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	canonical, signed := canonicalRequest(req.Method, req.URL.EscapedPath(), req.URL.Query(), host, req.Header, payloadHash)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.AccessKeyID+"/"+c.scope(stamp)+
		", SignedHeaders="+signed+", Signature="+c.signature(stamp, canonical))
}

// signature is the hex HMAC of the string to sign for canonical, made at
// stamp (YYYYMMDDTHHMMSSZ), under the key derived for its day.
func (c credentials) signature(stamp, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + c.scope(stamp) + "\n" + hex.EncodeToString(sum[:])
	key := mac([]byte("AWS4"+c.SecretAccessKey), stamp[:8])
	for _, part := range []string{c.Region, c.Service, "aws4_request"} {
		key = mac(key, part)
	}
	return hex.EncodeToString(mac(key, toSign))
}

// scope is the credential scope of a request signed at stamp.
func (c credentials) scope(stamp string) string {
	return stamp[:8] + "/" + c.Region + "/" + c.Service + "/aws4_request"
}

func mac(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// canonicalRequest is SigV4's canonical form of a request whose path is
// already escaped as it goes on the wire (S3 does not escape it twice),
// and the list of the headers it signs: host and every header given.
func canonicalRequest(method, escapedPath string, query url.Values, host string, h http.Header, payloadHash string) (canonical, signed string) {
	if escapedPath == "" {
		escapedPath = "/"
	}
	var pairs []string
	for k, vs := range query {
		for _, v := range vs {
			pairs = append(pairs, PercentEncode(k)+"="+PercentEncode(v))
		}
	}
	sort.Strings(pairs)
	values := map[string]string{"host": host}
	for k, vs := range h {
		name := strings.ToLower(k)
		if name == "authorization" {
			continue
		}
		trimmed := make([]string, len(vs))
		for i, v := range vs {
			trimmed[i] = strings.Join(strings.Fields(v), " ")
		}
		values[name] = strings.Join(trimmed, ",")
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(method + "\n" + escapedPath + "\n" + strings.Join(pairs, "&") + "\n")
	for _, k := range names {
		b.WriteString(k + ":" + values[k] + "\n")
	}
	signed = strings.Join(names, ";")
	b.WriteString("\n" + signed + "\n" + payloadHash)
	return b.String(), signed
}

// PercentEncode writes every byte of s but the unreserved characters of
// RFC 3986 (A–Z a–z 0–9 - _ . ~) as %XX in upper-case hex: SigV4's URI
// encoding, and a valid RFC 5987 value (a download's filename*).
func PercentEncode(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}

// escapePath encodes each element of a slash-separated path with
// uriEncode, keeping the slashes.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		parts[i] = PercentEncode(part)
	}
	return strings.Join(parts, "/")
}
