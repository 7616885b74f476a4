package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/stretchr/testify/require"
)

// A poll cut short by a shutdown is no error for the operator; anything
// else still is.
func TestShutdownCancellationsAreNotLoggedAsErrors(t *testing.T) {
	var buf bytes.Buffer
	log := quietOnShutdown{watermill.NewSlogLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))}
	log.Error("could not commit tx for querying message", fmt.Errorf("timeout: context already done: %w", context.Canceled), nil)
	log.With(watermill.LogFields{"topic": "order"}).Error("could not commit tx", errors.New("failed to deallocate cached statement(s): timeout: context already done: context canceled"), nil)
	require.Empty(t, buf.String(), "debug only")
	log.Error("could not query message", errors.New("connection refused"), nil)
	require.Contains(t, buf.String(), "level=ERROR")
	require.Contains(t, buf.String(), "connection refused")
}
