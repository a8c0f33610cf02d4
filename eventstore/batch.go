package eventstore

import "context"

// StreamAppend is one stream's part of a batch append: what one Append
// call would take.
type StreamAppend struct {
	Stream   string
	Expected ExpectedRevision
	Events   []EventData
}

// BatchResult is what became of one StreamAppend: where it landed, or why
// it was refused.
type BatchResult struct {
	Result AppendResult
	Err    error
}

// BatchAppender is implemented by stores that take appends to many
// streams in one call, so a publisher's batch of a thousand messages
// costs a few group commits instead of a goroutine and a round trip per
// message. Each StreamAppend succeeds or fails on its own, exactly as the
// same Append would; results are in the order of appends. A caller keeps
// a per-stream Append path for stores without it.
type BatchAppender interface {
	AppendBatch(ctx context.Context, appends []StreamAppend) []BatchResult
}
