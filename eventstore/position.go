package eventstore

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Position is an event's place in the global order: the id of the
// transaction that wrote it, then its global_position. Positions compare by
// (Tx, Pos). The zero Position is before every event.
type Position struct {
	Tx  uint64
	Pos int64
}

// Less reports whether p comes before o in the global order.
func (p Position) Less(o Position) bool {
	if p.Tx != o.Tx {
		return p.Tx < o.Tx
	}
	return p.Pos < o.Pos
}

// IsZero reports whether p is the start of the log.
func (p Position) IsZero() bool { return p.Tx == 0 && p.Pos == 0 }

// TxText is the transaction id in the text form PostgreSQL's xid8 reads.
func (p Position) TxText() string { return strconv.FormatUint(p.Tx, 10) }

func (p Position) String() string { return fmt.Sprintf("%d/%d", p.Tx, p.Pos) }

// Token encodes p as the opaque consistency token handed to clients
// (X-Event-Position) and used as a feed cursor.
func (p Position) Token() string {
	return base64.RawURLEncoding.EncodeToString([]byte("p1." + strconv.FormatUint(p.Tx, 36) + "." + strconv.FormatInt(p.Pos, 36)))
}

// ParseToken decodes a token made by Token.
func ParseToken(s string) (Position, error) {
	if s == "" || len(s) > 64 {
		return Position{}, fmt.Errorf("invalid position token")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Position{}, fmt.Errorf("invalid position token")
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 || parts[0] != "p1" {
		return Position{}, fmt.Errorf("invalid position token")
	}
	tx, err1 := strconv.ParseUint(parts[1], 36, 64)
	pos, err2 := strconv.ParseInt(parts[2], 36, 64)
	if err1 != nil || err2 != nil || pos < 0 || tx > 1<<62 {
		return Position{}, fmt.Errorf("invalid position token")
	}
	return Position{Tx: tx, Pos: pos}, nil
}
