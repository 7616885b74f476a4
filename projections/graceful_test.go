package projections

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A batch's context lives as long as the runner's, however long that is,
// then at most the grace period more.
func TestGracefulOutlivesItsParentByTheGraceOnly(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.Background())
	g, done := graceful(parent, 100*time.Millisecond)
	defer done()
	select {
	case <-g.Done():
		t.Fatal("done while its parent is live")
	default:
	}
	cancelParent()
	require.NoError(t, g.Err(), "the grace period starts when the parent ends")
	select {
	case <-g.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("still live long after the grace period")
	}

	g2, done2 := graceful(context.Background(), time.Hour)
	done2()
	require.Error(t, g2.Err(), "its cancel function ends it")
}
