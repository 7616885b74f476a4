package searchdocs

import (
	"sort"

	"github.com/google/uuid"
)

func sortUUIDs(s []uuid.UUID) {
	sort.Slice(s, func(i, j int) bool { return s[i].String() < s[j].String() })
}

func sortStrings(s []string) { sort.Strings(s) }
