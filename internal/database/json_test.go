package database_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/internal/pgtest"
)

// json and jsonb read into a json.RawMessage as the server's text, of a
// row each (the buffer is not shared between rows), NULL as nil; other
// targets are still decoded.
func TestJSONReadsIntoRawMessagesAndValues(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	rows, err := pool.Query(ctx, `SELECT jsonb_build_object('n', g, 'name', '名前' || g), json_build_array(g, 'x'), CASE WHEN g = 2 THEN NULL ELSE '{"a":1}'::jsonb END
FROM generate_series(1, 3) g ORDER BY g`)
	require.NoError(t, err)
	var docs, arrays, maybe []json.RawMessage
	for rows.Next() {
		var doc, arr, m json.RawMessage
		require.NoError(t, rows.Scan(&doc, &arr, &m))
		docs, arrays, maybe = append(docs, doc), append(arrays, arr), append(maybe, m)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []json.RawMessage{
		json.RawMessage(`{"n": 1, "name": "名前1"}`), json.RawMessage(`{"n": 2, "name": "名前2"}`), json.RawMessage(`{"n": 3, "name": "名前3"}`),
	}, docs)
	require.Equal(t, json.RawMessage(`[1, "x"]`), arrays[0])
	require.Equal(t, json.RawMessage(`[3, "x"]`), arrays[2])
	require.Nil(t, maybe[1])
	require.Equal(t, json.RawMessage(`{"a": 1}`), maybe[0])

	var v struct {
		N    int    `json:"n"`
		Name string `json:"name"`
	}
	var m map[string]any
	require.NoError(t, pool.QueryRow(ctx, `SELECT jsonb_build_object('n', 7, 'name', 'x'), '{"k": [1]}'::json`).Scan(&v, &m))
	require.Equal(t, 7, v.N)
	require.Equal(t, "x", v.Name)
	require.Equal(t, map[string]any{"k": []any{float64(1)}}, m)
}
