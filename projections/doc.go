// Package projections runs Honten's read models. Each read model has one
// projector (a subpackage) whose Apply folds a batch of events into its
// tables; the Runner feeds it from the gap-safe global feed and writes the
// checkpoint in the same transaction, so every event takes effect exactly
// once, across crashes, kills and restarts.
//
// A read model lives in generations: generation N is the schema
// rm_<model>_<N> holding the model's tables, and readers always query views
// of the same names in public that point at the live generation. A rebuild
// replays the whole log into a new generation, builds its indexes, catches
// up, and swaps the views in one short transaction: queries keep answering
// throughout and never see a half-built model. Table DDL lives in
// migrations, as SQL functions the runner calls for each generation.
//
// One instance of each projector is active cluster-wide, elected with a
// session advisory lock (which takes no transaction id). It must not import
// http or commands.
package projections
