package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// S3 is a Store over a bucket of an S3-compatible service. Objects are
// read with a GET signed with AWS Signature Version 4 and streamed as they
// arrive; the bucket stays private.
type S3 struct {
	endpoint      *url.URL
	bucket        string
	prefix        string
	virtualHosted bool
	creds         credentials
	client        *http.Client
	now           func() time.Time
}

// S3Config configures an S3 store.
type S3Config struct {
	// Endpoint is the service's base URL: https://s3.ap-northeast-1.amazonaws.com,
	// http://127.0.0.1:9000 (MinIO), https://<account>.r2.cloudflarestorage.com.
	Endpoint string
	// Bucket holds the files; Prefix, when set, is prepended to every name
	// ("downloads/").
	Bucket, Prefix string
	// Region signs the requests (us-east-1 when empty, which MinIO and R2 accept).
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken (temporary credentials
	// only) are the credentials.
	AccessKeyID, SecretAccessKey, SessionToken string
	// VirtualHosted addresses the bucket as <bucket>.<endpoint host>
	// instead of <endpoint>/<bucket> (path style, which every
	// S3-compatible service accepts).
	VirtualHosted bool
	// Client makes the requests (http.DefaultClient's transport with a
	// 30 s header timeout when nil).
	Client *http.Client
	// Now is the signing clock (time.Now when nil).
	Now func() time.Time
}

// NewS3 returns the S3 store of cfg.
func NewS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("files: S3 endpoint %q: want http(s)://host[:port]", cfg.Endpoint)
	}
	if cfg.Bucket == "" || strings.Contains(cfg.Bucket, "/") {
		return nil, fmt.Errorf("files: S3 bucket %q: want a bucket name", cfg.Bucket)
	}
	if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return nil, errors.New("files: S3 needs an access key id and a secret access key")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	client := cfg.Client
	if client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 30 * time.Second
		client = &http.Client{Transport: t}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	prefix := strings.TrimLeft(cfg.Prefix, "/")
	return &S3{endpoint: u, bucket: cfg.Bucket, prefix: prefix, virtualHosted: cfg.VirtualHosted,
		creds: credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey,
			SessionToken: cfg.SessionToken, Region: region, Service: "s3"},
		client: client, now: now}, nil
}

// objectURL is the URL of the object key, its path escaped as SigV4 signs it.
func (s *S3) objectURL(key string) *url.URL {
	u := *s.endpoint
	path := "/" + s.bucket + "/" + key
	if s.virtualHosted {
		u.Host = s.bucket + "." + u.Host
		path = "/" + key
	}
	base := strings.TrimRight(u.Path, "/")
	u.Path = base + path
	u.RawPath = escapePath(base) + escapePath(path)
	return &u
}

// Open GETs the object prefix+name. A missing object (404, NoSuchKey) is
// ErrNotFound; any other answer but 200 is an error naming S3's code.
func (s *S3) Open(ctx context.Context, name string) (*Object, error) {
	if !validName(name) {
		return nil, ErrNotFound
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.objectURL(s.prefix+name).String(), nil)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	s.creds.sign(req, emptyPayload, s.now())
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("files: S3 GET %s: %w", name, err)
	}
	if resp.StatusCode == http.StatusOK {
		mod, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
		return &Object{Body: resp.Body, Size: resp.ContentLength, ModTime: mod}, nil
	}
	defer resp.Body.Close()
	code := errorCode(resp.Body)
	if resp.StatusCode == http.StatusNotFound || code == "NoSuchKey" {
		return nil, ErrNotFound
	}
	return nil, fmt.Errorf("files: S3 GET %s: %s %s", name, resp.Status, code)
}

// errorCode reads the <Code> of an S3 error document ("" when none).
func errorCode(body io.Reader) string {
	var doc struct {
		Code string `xml:"Code"`
	}
	if err := xml.NewDecoder(io.LimitReader(body, 64<<10)).Decode(&doc); err != nil {
		return ""
	}
	return doc.Code
}

// put stores body as the object prefix+name (the contract test's way of
// placing a file; a shop places its files with its own tools).
func (s *S3) put(ctx context.Context, name string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.objectURL(s.prefix+name).String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	sum := sha256.Sum256(body)
	s.creds.sign(req, hex.EncodeToString(sum[:]), s.now())
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("files: S3 PUT %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("files: S3 PUT %s: %s %s", name, resp.Status, errorCode(resp.Body))
	}
	return nil
}
