package files

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The worked examples of Amazon S3's documentation ("Signature
// Calculations for the Authorization Header"): their credentials, their
// moment, and the signatures they publish.
var (
	docCreds = credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		Region: "us-east-1", Service: "s3"}
	docTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
)

func docRequest(t *testing.T, method, target string, body string, headers map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	docCreds.sign(req, hex.EncodeToString(sum[:]), docTime)
	return req
}

func TestSignatureMatchesTheDocumentedExamples(t *testing.T) {
	for _, c := range []struct {
		name, method, target, body string
		headers                    map[string]string
		signed, signature          string
	}{
		{"GET object with a range", "GET", "https://examplebucket.s3.amazonaws.com/test.txt", "",
			map[string]string{"Range": "bytes=0-9"},
			"host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
		{"PUT object whose key is escaped", "PUT", "https://examplebucket.s3.amazonaws.com" + escapePath("/test$file.text"), "Welcome to Amazon S3.",
			map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT", "X-Amz-Storage-Class": "REDUCED_REDUNDANCY"},
			"date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
		{"GET bucket lifecycle (a query without a value)", "GET", "https://examplebucket.s3.amazonaws.com/?lifecycle", "", nil,
			"host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
		{"GET bucket list (a sorted query)", "GET", "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", "", nil,
			"host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := docRequest(t, c.method, c.target, c.body, c.headers)
			require.Equal(t, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders="+
				c.signed+", Signature="+c.signature, req.Header.Get("Authorization"))
			require.Equal(t, "20130524T000000Z", req.Header.Get("X-Amz-Date"))
		})
	}
}

func TestURIEncodeKeepsOnlyUnreservedCharacters(t *testing.T) {
	require.Equal(t, "a%20b%2A%28c%29~-_.", PercentEncode("a b*(c)~-_."))
	require.Equal(t, "%E6%8A%B9%E8%8C%B6%2Bplus", PercentEncode("抹茶+plus"))
	require.Equal(t, "/bucket/dir/%E6%8A%B9%E8%8C%B6%20v1.pdf", escapePath("/bucket/dir/抹茶 v1.pdf"))
}
