package reading_test

import (
	"testing"

	"github.com/honten/honten/search/reading"
)

func BenchmarkOf(b *testing.B) {
	titles := []string{"ソニー 防水ヘッドホン 黒 27cm", "【防水】ソニー ヘッドホン（黒）", "象印防水電気ケトル黒3個セット", "京都 限定 宇治抹茶 No.3"}
	if _, err := reading.Load(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		reading.Of(titles[i%len(titles)])
	}
}
