// Package reading gives Japanese text its readings, so that a shopper who
// types the kana of a word finds the kanji spelling (まっちゃ → 抹茶) and
// spellings that share a reading find each other (手拭い = 手ぬぐい). It
// runs the kagome morphological analyzer with the IPA dictionary (pure Go)
// plus a small user dictionary of shop words the IPA dictionary reads
// wrongly (userdict.txt), and folds every reading with textnorm, the same
// way queries are folded.
//
// The analyzer's dictionary takes about 90 MB of heap and a second to
// load: it is loaded once, on first use, and shared (Load, Stats).
package reading

import (
	"bytes"
	_ "embed"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ikawaha/kagome-dict/dict"
	"github.com/ikawaha/kagome-dict/ipa"
	"github.com/ikawaha/kagome/v2/tokenizer"
	"golang.org/x/text/unicode/norm"

	"github.com/honten/honten/search/textnorm"
)

//go:embed userdict.txt
var userDict []byte

// LoadStats describe the shared analyzer's loading.
type LoadStats struct {
	// Duration is the time the dictionary took to load.
	Duration time.Duration
	// HeapBytes is the live heap the loading added (measured after a GC).
	HeapBytes int64
}

var (
	once    sync.Once
	tk      *tokenizer.Tokenizer
	loadErr error
	stats   LoadStats
)

// Load loads the shared analyzer (once; later calls return at once) and
// returns what the loading cost. Of and Query call it themselves; a server
// may call it at start-up to take the cost before the first request.
func Load() (LoadStats, error) {
	once.Do(func() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		recs, err := dict.NewUserDicRecords(bytes.NewReader(userDict))
		if err != nil {
			loadErr = fmt.Errorf("reading: user dictionary: %w", err)
			return
		}
		ud, err := recs.NewUserDict()
		if err != nil {
			loadErr = fmt.Errorf("reading: user dictionary: %w", err)
			return
		}
		tk, loadErr = tokenizer.New(ipa.Dict(), tokenizer.UserDict(ud), tokenizer.OmitBosEos())
		if loadErr != nil {
			loadErr = fmt.Errorf("reading: analyzer: %w", loadErr)
			return
		}
		stats.Duration = time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		stats.HeapBytes = int64(after.HeapAlloc) - int64(before.HeapAlloc)
	})
	return stats, loadErr
}

// Text is the reading of a text.
type Text struct {
	// Reading is the folded reading of each run of Japanese in the text
	// (the morphemes' readings joined), runs separated by a space: "宇治
	// 限定 宇治抹茶" reads "うじ げんてい うじまっちゃ". Latin words are left out.
	Reading string
	// Words are the whole words of the text's Japanese runs, folded: each
	// morpheme's surface and reading (particles and auxiliaries left out:
	// the の of 季節の is no word a shopper looks for) and each run's
	// surface and reading,
	// distinct, in order of appearance. A query equal to one of them
	// matches a whole word, not a part of a longer one (うじ = 宇治, not the
	// middle of ほうじ茶).
	Words []string
}

// cache keeps the readings of short texts (category names, query tokens),
// which recur: at most cacheSize entries, emptied when full.
var cache = struct {
	sync.Mutex
	m map[string]Text
}{m: map[string]Text{}}

const (
	cacheSize     = 4096
	cacheMaxBytes = 36
)

// Of returns the readings of s. Text without Japanese gives an empty Text.
// The Words slice may be shared between calls: callers must not modify it.
// It panics only if the embedded dictionaries are broken (Load fails).
func Of(s string) Text {
	if !hasJapanese(s) {
		return Text{}
	}
	if len(s) > cacheMaxBytes {
		return analyze(s)
	}
	cache.Lock()
	r, ok := cache.m[s]
	cache.Unlock()
	if ok {
		return r
	}
	r = analyze(s)
	cache.Lock()
	if len(cache.m) >= cacheSize {
		clear(cache.m)
	}
	cache.m[s] = r
	cache.Unlock()
	return r
}

func analyze(s string) Text {
	if _, err := Load(); err != nil {
		panic(err)
	}
	var runs []string
	var words []string
	seen := map[string]bool{}
	addWord := func(w string) {
		if w != "" && !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	var runR, runS strings.Builder
	n := 0
	flush := func() {
		if n > 0 {
			runs = append(runs, runR.String())
			if n > 1 {
				addWord(runS.String())
				addWord(runR.String())
			}
		}
		runR.Reset()
		runS.Reset()
		n = 0
	}
	for _, tok := range tk.Tokenize(norm.NFKC.String(s)) {
		surf := textnorm.Normalize(tok.Surface)
		if !isJapaneseWord(surf) {
			flush()
			continue
		}
		read := surf
		if hasHan(tok.Surface) {
			if r, ok := readingOf(tok); ok {
				read = textnorm.Normalize(r)
			}
		}
		runR.WriteString(read)
		runS.WriteString(surf)
		n++
		if !function(tok) {
			addWord(surf)
			addWord(read)
		}
	}
	flush()
	return Text{Reading: strings.Join(runs, " "), Words: words}
}

// Query returns the folded readings of a query's Japanese runs when it has
// kanji (a query in kana is its own reading), else nil.
func Query(s string) []string {
	if !hasHan(s) {
		return nil
	}
	r := Of(s).Reading
	if r == "" {
		return nil
	}
	return strings.Fields(r)
}

// function reports whether a morpheme is a particle or an auxiliary verb.
func function(tok tokenizer.Token) bool {
	if tok.Class != tokenizer.KNOWN {
		return false
	}
	pos := tok.POS()
	return len(pos) > 0 && (pos[0] == "助詞" || pos[0] == "助動詞")
}

// readingOf returns a morpheme's reading in katakana, if the dictionary has one.
func readingOf(tok tokenizer.Token) (string, bool) {
	if tok.Class == tokenizer.USER {
		if ex := tok.UserExtra(); ex != nil && len(ex.Readings) > 0 {
			return strings.Join(ex.Readings, ""), true
		}
		return "", false
	}
	r, ok := tok.Reading()
	if !ok || r == "" || r == "*" {
		return "", false
	}
	return r, true
}

// isJapaneseWord reports whether folded text is a word of kana or kanji.
func isJapaneseWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || r == 'ー') {
			return false
		}
	}
	return true
}

func hasJapanese(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) {
			return true
		}
	}
	return false
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
