package postgres

import "unicode/utf8"

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
