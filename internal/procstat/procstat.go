// Package procstat reads what Linux's /proc says of a process: the CPU time
// it has used, for the benchmarks' per-process figures.
package procstat

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// CPU is the user+system CPU time process pid ("self" for this one) has
// used so far; 0 when it cannot be read (the process is gone).
func CPU(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
