package postgres

import (
	"sync"
	"time"
	"unicode/utf8"

	"github.com/honten/honten/domain/tenant"
)

// typoBudget is Meilisearch's default: no typo under 5 characters, one for
// 5–8, two from 9.
func typoBudget(word string) int {
	switch n := utf8.RuneCountInString(word); {
	case n >= 9:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}

// typoCost is the optimal-string-alignment distance (a transposition is one
// edit), plus one when the first letters differ (as in Meilisearch, a typo
// on the first letter costs two).
func typoCost(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := osa(ra, rb)
	if len(ra) > 0 && len(rb) > 0 && ra[0] != rb[0] {
		d++
	}
	return d
}

func osa(a, b []rune) int {
	la, lb := len(a), len(b)
	if la == 0 {
		return lb
	}
	if lb == 0 {
		return la
	}
	w := lb + 1
	d := make([]int, (la+1)*w)
	for i := 0; i <= la; i++ {
		d[i*w] = i
	}
	for j := 0; j <= lb; j++ {
		d[j] = j
	}
	for i := 1; i <= la; i++ {
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(d[(i-1)*w+j]+1, d[i*w+j-1]+1, d[(i-1)*w+j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, d[(i-2)*w+j-2]+1)
			}
			d[i*w+j] = v
		}
	}
	return d[la*w+lb]
}

// typoCache keeps each word's typo alternatives for a short while: the
// dictionary changes slowly, and a stale entry only delays typo matches of
// a word added in the last typoTTL (exact matches never depend on it).
type typoCache struct {
	mu sync.Mutex
	m  map[typoKey]typoEntry
}

type typoKey struct {
	t   tenant.ID
	tok string
}

type typoEntry struct {
	alts []string
	at   time.Time
}

const (
	typoTTL     = 30 * time.Second
	typoEntries = 10_000
)

func newTypoCache() *typoCache { return &typoCache{m: map[typoKey]typoEntry{}} }

func (c *typoCache) get(t tenant.ID, tok string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[typoKey{t, tok}]
	if !ok || time.Since(e.at) > typoTTL {
		return nil, false
	}
	return e.alts, true
}

func (c *typoCache) put(t tenant.ID, tok string, alts []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= typoEntries {
		clear(c.m) // simple bound: start over
	}
	c.m[typoKey{t, tok}] = typoEntry{alts: alts, at: time.Now()}
}
