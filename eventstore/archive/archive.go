package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
)

// Format names the layout of an export directory.
const Format = "honten-events/1"

// ManifestName is the manifest's file name inside an export directory.
const ManifestName = "manifest.json"

// Record is one exported event: a line of an export file.
type Record struct {
	// Position is the event's global_position in the source.
	Position int64 `json:"position"`
	// Tx is the id of the source transaction that wrote it (order only:
	// the target's transactions get their own ids).
	Tx            uint64          `json:"tx"`
	EventID       uuid.UUID       `json:"event_id"`
	Tenant        uuid.UUID       `json:"tenant_id"`
	StreamType    string          `json:"stream_type"`
	StreamID      uuid.UUID       `json:"stream_id"`
	Version       int64           `json:"stream_version"`
	Type          string          `json:"event_type"`
	SchemaVersion int             `json:"schema_version"`
	Payload       json.RawMessage `json:"payload"`
	Metadata      json.RawMessage `json:"metadata"`
	Actor         *string         `json:"actor,omitempty"`
	Correlation   uuid.UUID       `json:"correlation_id"`
	Causation     *uuid.UUID      `json:"causation_id,omitempty"`
	RecordedAt    time.Time       `json:"recorded_at"`
}

// File is one complete export file as the manifest lists it.
type File struct {
	Name   string `json:"name"`
	Events int64  `json:"events"`
	// First and Last are the position tokens of the file's first and last
	// events (eventstore.Position.Token).
	First  string `json:"first"`
	Last   string `json:"last"`
	SHA256 string `json:"sha256"`
}

// Manifest lists an export directory's complete files in order.
type Manifest struct {
	Format string `json:"format"`
	Files  []File `json:"files"`
	// Keys is the personal-data keys file (KeysName) as of the last run;
	// its Events counts keys.
	Keys *File `json:"personal_keys,omitempty"`
	// State is the command side's state file (StateName) as of the last
	// run, taken where the exported log ends; its Events counts rows.
	State *File     `json:"command_state,omitempty"`
	At    time.Time `json:"updated_at"`
}

// Events is the number of events in the manifest's files.
func (m Manifest) Events() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Events
	}
	return n
}

// Errors.
var (
	// ErrChecksum means a file's bytes do not hash to its manifest's SHA-256.
	ErrChecksum = errors.New("archive: checksum mismatch")
	// ErrNotEmpty means the target database holds events that are not a
	// prefix of the export.
	ErrNotEmpty = errors.New("archive: target database is not empty")
	// ErrNoManifest means the directory holds no export.
	ErrNoManifest = errors.New("archive: no manifest.json in the directory")
)

// ReadManifest reads dir's manifest. It returns ErrNoManifest when there is none.
func ReadManifest(dir string) (Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, os.ErrNotExist) {
		return Manifest{}, fmt.Errorf("%s: %w", dir, ErrNoManifest)
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("read manifest %s: %w", dir, err)
	}
	if m.Format != Format {
		return Manifest{}, fmt.Errorf("read manifest %s: format %q, want %q", dir, m.Format, Format)
	}
	return m, nil
}

// writeManifest replaces dir's manifest atomically (write, then rename).
func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ManifestName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, ManifestName)); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// fileName is the name of the n-th export file (1-based).
func fileName(n int) string { return fmt.Sprintf("events-%06d.jsonl", n) }
