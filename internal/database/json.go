package database

import (
	"bytes"
	"encoding/json"

	"github.com/jackc/pgx/v5/pgtype"
)

// RegisterJSON makes m read json and jsonb values into a json.RawMessage
// by copying their bytes. pgx's codecs otherwise hand a RawMessage to
// json.Unmarshal, which scans the whole document to validate what
// PostgreSQL has validated already: three quarters of the CPU of a
// storefront product page (twenty stored documents) and the events'
// payloads of every stream load went there (bench catalog, bench checkout
// -cpuprofile). Other targets are decoded with encoding/json as before.
func RegisterJSON(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "json", OID: pgtype.JSONOID, Codec: &pgtype.JSONCodec{Marshal: json.Marshal, Unmarshal: unmarshalJSON}})
	m.RegisterType(&pgtype.Type{Name: "jsonb", OID: pgtype.JSONBOID, Codec: &pgtype.JSONBCodec{Marshal: json.Marshal, Unmarshal: unmarshalJSON}})
}

// unmarshalJSON is json.Unmarshal, but a json.RawMessage gets a copy of
// the bytes (the connection reuses its read buffer).
func unmarshalJSON(data []byte, v any) error {
	if raw, ok := v.(*json.RawMessage); ok {
		*raw = bytes.Clone(data)
		return nil
	}
	return json.Unmarshal(data, v)
}
