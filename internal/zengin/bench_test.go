package zengin_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/honten/honten/internal/zengin"
)

func BenchmarkReadStatement(b *testing.B) {
	st, err := zengin.SyntheticStatement(rand.New(rand.NewPCG(7, 7)), zengin.Transactions, 10_000, now)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := zengin.WriteStatement(&buf, st); err != nil {
		b.Fatal(err)
	}
	raw := buf.Bytes()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := zengin.ReadStatementAt(bytes.NewReader(raw), now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteStatement(b *testing.B) {
	st, err := zengin.SyntheticStatement(rand.New(rand.NewPCG(7, 7)), zengin.Transactions, 10_000, now)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var buf bytes.Buffer
		if err := zengin.WriteStatement(&buf, st); err != nil {
			b.Fatal(err)
		}
	}
}
