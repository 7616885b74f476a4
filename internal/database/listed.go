package database

import (
	"fmt"
	"strings"
)

// MaxListed is the most keys a statement built with ListedRows lists as
// parameters of their own; callers send more another way (an array, or a
// statement each).
const MaxListed = 8

// ListedRows returns the rows of a VALUES list of n rows of parameters of
// the types given, each row ending with its position from 1: for n = 2 and
// ("uuid", "bigint"), "($1::uuid, $2::bigint, 1), ($3::uuid, $4::bigint, 2)".
//
// A statement that lists its keys this way is planned for the number of
// keys it gets. Written with an array parameter instead (unnest($1)),
// PostgreSQL's generic plan reckons with an array of unknown length, costs
// more than a custom plan for the two or three keys a command passes, and
// so the statement was planned again at every execution (planning cost
// four times the execution of a check of a few streams). Callers build
// the statements for 1..MaxListed keys once.
func ListedRows(n int, types ...string) string {
	var b strings.Builder
	p := 1
	for row := 1; row <= n; row++ {
		if row > 1 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for _, typ := range types {
			fmt.Fprintf(&b, "$%d::%s, ", p, typ)
			p++
		}
		fmt.Fprintf(&b, "%d)", row)
	}
	return b.String()
}
