package live

import "context"

// Leader is a [Store] that several engines share (replicas) and that
// elects one of them at a time to refit: an engine whose store is a
// Leader refits only while TryLead says it leads, and the other replicas
// load the snapshot the leader saved instead of fitting their own.
// Implementations must be safe for concurrent use.
type Leader interface {
	// TryLead makes this process the one that refits, if no other is. It
	// does not wait: ok is false while another leads. When ok, release
	// ends the turn; it may be called more than once. An error means the
	// store could not be asked (it is unavailable).
	TryLead(ctx context.Context) (release func(), ok bool, err error)
}
