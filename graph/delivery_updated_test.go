package graph_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestDeliveryUpdatedOneMessagePerChange subscribes to deliveryUpdated
// over the websocket and publishes two messages, one after the other. Each
// delivery must get one message per change, saying which: its listing, its
// attempt and its status change, once each, at distinct log positions. A
// first attempt appends the attempt and its outcome together, and both
// messages reload the delivery after the commit, so without the change in
// the payload they were the same SUCCEEDED update twice. The second
// delivery fences the first: its messages come after all of the first's.
func TestDeliveryUpdatedOneMessagePerChange(t *testing.T) {
	srv, client, publisher, recv, hookID := deliverySetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := srv.Dial(ctx, client.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const fields = `id status attemptCount attempts { number statusCode } change changePosition`
	if err := conn.Subscribe(ctx, "1", `subscription($w: ID) { deliveryUpdated(webhook: $w) { `+fields+` } }`, map[string]any{"w": hookID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return srv.Env.Broker.Len() == 1 })

	type message struct {
		raw, id, status  string
		change, position *string
	}
	var msgs []message
	readUntilSucceeded := func() string {
		t.Helper()
		for {
			m, err := conn.Next(ctx)
			if err != nil {
				t.Fatalf("waiting for the change to SUCCEEDED: %v (got %v)", err, msgs)
			}
			data := payloadData(t, m)
			var out struct {
				DeliveryUpdated struct {
					ID, Status             string
					Change, ChangePosition *string
				}
			}
			if err := json.Unmarshal(data, &out); err != nil {
				t.Fatal(err)
			}
			d := out.DeliveryUpdated
			if slices.ContainsFunc(msgs, func(p message) bool { return p.raw == string(data) }) {
				t.Fatalf("the same message twice: %s", data)
			}
			msgs = append(msgs, message{string(data), d.ID, d.Status, d.Change, d.ChangePosition})
			if d.Status == "SUCCEEDED" && d.Change != nil && *d.Change == "STATUS_CHANGED" {
				return d.ID // its last change
			}
		}
	}
	publishBounce(t, publisher, "evt-once-1")
	first := readUntilSucceeded()
	publishBounce(t, publisher, "evt-once-2")
	second := readUntilSucceeded()
	recv.WaitFor(t, 2, 10*time.Second)

	for _, id := range []string{first, second} {
		var reported []string
		seen := map[string]bool{}
		for _, m := range msgs {
			if m.id != id {
				continue
			}
			if seen[m.raw] {
				t.Errorf("delivery %s: the same message twice: %s", id, m.raw)
			}
			seen[m.raw] = true
			if m.change == nil || m.position == nil {
				t.Errorf("delivery %s: a message not saying which change it reports: %s", id, m.raw)
				continue
			}
			// An attempt's one event reports the attempt and the status it
			// moved: two changes at one position, each said once.
			if key := *m.change + "@" + *m.position; seen[key] {
				t.Errorf("delivery %s: two messages for the change %s", id, key)
			} else {
				seen[key] = true
			}
			reported = append(reported, *m.change)
		}
		slices.Sort(reported)
		if want := []string{"ATTEMPT_RECORDED", "LISTED", "STATUS_CHANGED"}; !slices.Equal(reported, want) {
			t.Errorf("delivery %s: messages reported %v, want each of %v once", id, reported, want)
		}
	}
	for i, m := range msgs {
		if m.id == first && slices.ContainsFunc(msgs[:i], func(p message) bool { return p.id == second }) {
			t.Errorf("a message of the first delivery after the second's: %s", m.raw)
		}
	}
}
