package http

import (
	"context"
	"net/http"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/eventstore"
)

// withConsistency implements read-your-writes: a GET carrying
// X-Min-Position waits (bounded) until the read models have applied that
// event, else answers 503 with Retry-After. With a read replica, a GET
// reads the read models there (replica.go) and waits until the replica has
// replayed the checkpoints that cover the position.
func (s *Server) withConsistency(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Replica != nil {
			r = r.WithContext(s.withReplicaReads(r.Context(), r.Method))
		}
		tok := r.Header.Get("X-Min-Position")
		if tok == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		pos, err := eventstore.ParseToken(tok)
		if err != nil {
			writeError(w, r, errs.New(errs.KindMalformed, "invalid_position", "X-Min-Position is not a position token this server issued"))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.Config.ConsistencyWait)
		defer cancel()
		if err := s.waitFor(ctx, pos); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
