package files

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeS3 is an in-process S3 endpoint for the contract test when no real
// one is configured: path-style buckets, GET and PUT of objects, and every
// request's SigV4 signature checked against its own copy of the secret,
// recomputed from the request as it arrived on the wire.
type fakeS3 struct {
	keyID, secret, bucket string
	mu                    sync.Mutex
	objects               map[string][]byte
}

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

func (f *fakeS3) fail(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, code)
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := authRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		f.fail(w, http.StatusForbidden, "AccessDenied")
		return
	}
	if m[1] != f.keyID {
		f.fail(w, http.StatusForbidden, "InvalidAccessKeyId")
		return
	}
	stamp := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", stamp)
	if err != nil || stamp[:8] != m[2] || time.Since(at).Abs() > 15*time.Minute {
		f.fail(w, http.StatusForbidden, "RequestTimeTooSkewed")
		return
	}
	body, _ := io.ReadAll(r.Body)
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if sum := sha256.Sum256(body); payload != hex.EncodeToString(sum[:]) {
		f.fail(w, http.StatusBadRequest, "XAmzContentSHA256Mismatch")
		return
	}
	signedHeaders := http.Header{}
	for _, name := range strings.Split(m[4], ";") {
		if name != "host" {
			signedHeaders[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	canonical, _ := canonicalRequest(r.Method, r.URL.EscapedPath(), r.URL.Query(), r.Host, signedHeaders, payload)
	want := credentials{SecretAccessKey: f.secret, Region: m[3], Service: "s3"}.signature(stamp, canonical)
	if !hmac.Equal([]byte(want), []byte(m[5])) {
		f.fail(w, http.StatusForbidden, "SignatureDoesNotMatch")
		return
	}
	key, ok := strings.CutPrefix(r.URL.Path, "/"+f.bucket+"/")
	if !ok {
		f.fail(w, http.StatusNotFound, "NoSuchBucket")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		f.objects[key] = body
	case http.MethodGet:
		obj, ok := f.objects[key]
		if !ok {
			f.fail(w, http.StatusNotFound, "NoSuchKey")
			return
		}
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Length", fmt.Sprint(len(obj)))
		_, _ = w.Write(obj)
	default:
		f.fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed")
	}
}

// s3UnderTest is the S3 store the contract test runs against: the
// endpoint of FILES_S3_TEST_ENDPOINT (with FILES_S3_TEST_BUCKET,
// FILES_S3_TEST_REGION and the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
// of the environment; a real service or a local MinIO) when it is set,
// else the in-process fake. It also returns the config, to make a store
// with the wrong secret.
func s3UnderTest(t *testing.T) S3Config {
	t.Helper()
	if ep := os.Getenv("FILES_S3_TEST_ENDPOINT"); ep != "" {
		return S3Config{Endpoint: ep, Bucket: os.Getenv("FILES_S3_TEST_BUCKET"), Region: os.Getenv("FILES_S3_TEST_REGION"),
			AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Prefix: "honten-contract/"}
	}
	f := &fakeS3{keyID: "HONTENTESTKEY", secret: "honten/test/secret", bucket: "downloads", objects: map[string][]byte{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return S3Config{Endpoint: srv.URL, Bucket: f.bucket, AccessKeyID: f.keyID, SecretAccessKey: f.secret, Prefix: "shop-a/"}
}

// The S3 store reads back what was put, under keys that need escaping,
// tells a missing object from a refused request, and never leaves its
// prefix.
func TestS3StoreContract(t *testing.T) {
	ctx := context.Background()
	cfg := s3UnderTest(t)
	s, err := NewS3(cfg)
	require.NoError(t, err)

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	run := hex.EncodeToString(b)
	body := make([]byte, 300_000)
	_, _ = rand.Read(body)
	for _, name := range []string{run + "/plain.zip", run + "/抹茶 の 手引き (第2版)+α.pdf", run + "/a~b_c-d.e"} {
		require.NoError(t, s.put(ctx, name, body), name)
		obj, err := s.Open(ctx, name)
		require.NoError(t, err, name)
		got, err := io.ReadAll(obj.Body)
		require.NoError(t, obj.Body.Close())
		require.NoError(t, err)
		require.Equal(t, body, got, name)
		require.EqualValues(t, len(body), obj.Size)
		require.False(t, obj.ModTime.IsZero())
	}

	_, err = s.Open(ctx, run+"/missing.zip")
	require.ErrorIs(t, err, ErrNotFound)
	for _, bad := range []string{"", "/abs.zip", "../escape.zip", run + "/../x", run + "//x"} {
		_, err = s.Open(ctx, bad)
		require.ErrorIs(t, err, ErrNotFound, "%q", bad)
	}

	wrong := cfg
	wrong.SecretAccessKey = "not-the-secret"
	ws, err := NewS3(wrong)
	require.NoError(t, err)
	_, err = ws.Open(ctx, run+"/plain.zip")
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrNotFound), "a refused request is not a missing file: %v", err)
	require.Contains(t, err.Error(), "SignatureDoesNotMatch")
}

func TestS3ObjectURLs(t *testing.T) {
	s, err := NewS3(S3Config{Endpoint: "https://s3.ap-northeast-1.amazonaws.com/", Bucket: "shop", Region: "ap-northeast-1",
		AccessKeyID: "k", SecretAccessKey: "s"})
	require.NoError(t, err)
	require.Equal(t, "https://s3.ap-northeast-1.amazonaws.com/shop/a/%E6%8A%B9%E8%8C%B6%20v1.pdf", s.objectURL("a/抹茶 v1.pdf").String())
	v, err := NewS3(S3Config{Endpoint: "https://s3.ap-northeast-1.amazonaws.com", Bucket: "shop", AccessKeyID: "k", SecretAccessKey: "s",
		VirtualHosted: true})
	require.NoError(t, err)
	require.Equal(t, "https://shop.s3.ap-northeast-1.amazonaws.com/a/b%2Bc.zip", v.objectURL("a/b+c.zip").String())
	require.Equal(t, "us-east-1", v.creds.Region)

	for _, bad := range []S3Config{{Endpoint: "s3.amazonaws.com", Bucket: "b", AccessKeyID: "k", SecretAccessKey: "s"},
		{Endpoint: "https://s3.amazonaws.com", Bucket: "", AccessKeyID: "k", SecretAccessKey: "s"},
		{Endpoint: "https://s3.amazonaws.com", Bucket: "b/c", AccessKeyID: "k", SecretAccessKey: "s"},
		{Endpoint: "https://s3.amazonaws.com", Bucket: "b", SecretAccessKey: "s"}} {
		_, err := NewS3(bad)
		require.Error(t, err, "%+v", bad)
	}
}

func TestDirOpensOnlyFilesInside(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.MkdirAll(root+"/guides", 0o755))
	require.NoError(t, os.WriteFile(root+"/guides/抹茶.pdf", []byte("%PDF-1.7 matcha"), 0o644))
	require.NoError(t, os.WriteFile(outside+"/secret.txt", []byte("secret"), 0o644))
	require.NoError(t, os.Symlink(outside+"/secret.txt", root+"/link.txt"))
	d := Dir(root)
	ctx := context.Background()

	obj, err := d.Open(ctx, "guides/抹茶.pdf")
	require.NoError(t, err)
	got, _ := io.ReadAll(obj.Body)
	require.NoError(t, obj.Body.Close())
	require.Equal(t, "%PDF-1.7 matcha", string(got))
	require.EqualValues(t, len(got), obj.Size)
	_, seekable := obj.Body.(io.ReadSeeker)
	require.True(t, seekable, "a local file answers ranges")

	for _, name := range []string{"guides/missing.pdf", "guides", "../" + outside + "/secret.txt", "link.txt", "/etc/passwd", "", "guides/../guides/抹茶.pdf"} {
		_, err := d.Open(ctx, name)
		require.ErrorIs(t, err, ErrNotFound, "%q", name)
	}
	_, err = Dir("").Open(ctx, "guides/抹茶.pdf")
	require.ErrorIs(t, err, ErrNotFound)
}
