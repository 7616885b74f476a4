package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/app"
)

// Digital goods' files come from DOWNLOADS_DIR unless DOWNLOADS_S3_BUCKET
// names a bucket; a bucket without credentials is refused at start-up,
// not at the first download.
func TestDownloadsS3FromTheEnvironment(t *testing.T) {
	c, err := app.ConfigFromEnv()
	require.NoError(t, err)
	require.Nil(t, c.DownloadsS3)

	t.Setenv("DOWNLOADS_S3_BUCKET", "shop-goods")
	t.Setenv("DOWNLOADS_S3_REGION", "ap-northeast-1")
	t.Setenv("DOWNLOADS_S3_PREFIX", "downloads/")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err = app.ConfigFromEnv()
	require.ErrorContains(t, err, "DOWNLOADS_S3_BUCKET")

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	c, err = app.ConfigFromEnv()
	require.NoError(t, err)
	require.NotNil(t, c.DownloadsS3)
	require.Equal(t, "https://s3.ap-northeast-1.amazonaws.com", c.DownloadsS3.Endpoint)
	require.Equal(t, "shop-goods", c.DownloadsS3.Bucket)
	require.Equal(t, "downloads/", c.DownloadsS3.Prefix)
	require.False(t, c.DownloadsS3.VirtualHosted)

	t.Setenv("DOWNLOADS_S3_ENDPOINT", "http://127.0.0.1:9000")
	c, err = app.ConfigFromEnv()
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9000", c.DownloadsS3.Endpoint)
	t.Setenv("DOWNLOADS_S3_ENDPOINT", "ftp://nowhere")
	_, err = app.ConfigFromEnv()
	require.ErrorContains(t, err, "endpoint")
}
