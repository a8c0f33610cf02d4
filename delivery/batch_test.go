package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/signature"
)

// batchedWebhook is a verified webhook that batches up to maxEvents.
func batchedWebhook(t *testing.T, env *testenv.Env, p app.Principal, recv *testenv.Receiver, b domain.Batching) string {
	t.Helper()
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	if _, err := env.App.UpdateWebhook(context.Background(), p, hook.ID, nil, domain.UpdateWebhook{Batching: &b}); err != nil {
		t.Fatal(err)
	}
	return hook.ID
}

// publishOwed publishes n messages and waits until the due index owes
// them all, so the dispatcher started next sees the whole backlog at once.
func publishOwed(t *testing.T, env *testenv.Env, hookID string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		ids = append(ids, res[0].MessageID)
	}
	waitFor(t, func() bool {
		owed, _, err := due.DueFor(env.ReadDB, hookID, time.Now().Add(time.Hour), n+1, nil)
		return err == nil && len(owed) == n
	})
	return ids
}

// batchRequest is one batched POST as the receiver got it.
type batchRequest struct {
	webhookID string
	ids       []string
}

func readBatch(t *testing.T, secret string, r testenv.Received) batchRequest {
	t.Helper()
	if err := signature.Verify(secret, r.Header, r.Body); err != nil {
		t.Fatalf("batch signature does not verify: %v", err)
	}
	var events []delivery.Payload
	if err := json.Unmarshal(r.Body, &events); err != nil {
		t.Fatalf("body is not a JSON array of envelopes: %v: %s", err, r.Body)
	}
	if n, _ := strconv.Atoi(r.Header.Get(delivery.BatchSizeHeader)); n != len(events) {
		t.Errorf("%s: %q, body holds %d", delivery.BatchSizeHeader, r.Header.Get(delivery.BatchSizeHeader), len(events))
	}
	b := batchRequest{webhookID: r.Header.Get("webhook-id")}
	for _, e := range events {
		if e.Type != "email.open" || e.Account != "acme" {
			t.Errorf("envelope %+v", e)
		}
		b.ids = append(b.ids, e.ID)
	}
	return b
}

// N published messages arrive in ⌈N/size⌉ POSTs, each a signed JSON array
// of distinct envelopes under one webhook-id, and every delivery records
// the batch it went in.
func TestBatchesArriveAsArrays(t *testing.T) {
	env := testenv.New(t)
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hookID := batchedWebhook(t, env, p, recv, domain.Batching{MaxEvents: 10})
	secret := webhookSecret(t, env, p, hookID)
	const n = 25
	published := publishOwed(t, env, hookID, n)
	env.StartDispatcher(t)

	got := recv.WaitFor(t, 3, 10*time.Second)
	for _, id := range published {
		waitDelivery(t, env, domain.DeliveryIDFor(id, hookID), domain.DeliveryStatusSucceeded)
	}
	if len(recv.Received()) != 3 {
		t.Fatalf("%d POSTs for %d events in batches of 10, want 3", len(recv.Received()), n)
	}
	seen := map[string]string{} // message ID -> webhook-id of its batch
	batchIDs := map[string]bool{}
	for _, r := range got {
		b := readBatch(t, secret, r)
		if len(b.ids) > 10 || batchIDs[b.webhookID] {
			t.Errorf("batch %s of %d events (or its webhook-id used twice)", b.webhookID, len(b.ids))
		}
		batchIDs[b.webhookID] = true
		for _, id := range b.ids {
			if _, dup := seen[id]; dup {
				t.Errorf("message %s sent twice", id)
			}
			seen[id] = b.webhookID
		}
	}
	for _, id := range published {
		batch, ok := seen[id]
		if !ok {
			t.Fatalf("message %s never sent", id)
		}
		attempts := attemptsOf(t, env, domain.DeliveryIDFor(id, hookID))
		if len(attempts) != 1 || attempts[0].BatchID != batch || attempts[0].BatchSize == 0 {
			t.Errorf("delivery of %s records %+v, want one attempt in batch %s", id, attempts, batch)
		}
	}
}

// A batch the receiver refuses is retried whole: the same events under
// the same webhook-id, and every member's delivery shows both attempts.
func TestFailedBatchIsRetriedWhole(t *testing.T) {
	env := testenv.New(t)
	var skew atomic.Int64
	env.Dispatcher.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(skew.Load())) }
	recv := testenv.NewReceiver(t)
	recv.Respond(http.StatusInternalServerError, 0)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hookID := batchedWebhook(t, env, p, recv, domain.Batching{MaxEvents: 10})
	secret := webhookSecret(t, env, p, hookID)
	published := publishOwed(t, env, hookID, 5)
	env.StartDispatcher(t)

	recv.WaitFor(t, 1, 10*time.Second)
	for _, id := range published {
		waitDelivery(t, env, domain.DeliveryIDFor(id, hookID), domain.DeliveryStatusRetrying)
	}
	// The dispatcher lets a member go once the runner reports its record
	// applied, a moment after the read model shows it. The members' records
	// may be applied in two commits, and a retry made due between the two
	// reports would find some members still held and go out in two parts.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.Runner.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	recv.Respond(http.StatusOK, 0)
	skew.Store(int64(2 * time.Minute)) // past the retry (5 s ±20%), without sleeping
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: hookID}})
	for _, id := range published {
		waitDelivery(t, env, domain.DeliveryIDFor(id, hookID), domain.DeliveryStatusSucceeded)
	}
	got := recv.Received()
	if len(got) != 2 {
		t.Fatalf("%d POSTs, want the batch and its one retry", len(got))
	}
	first, retry := readBatch(t, secret, got[0]), readBatch(t, secret, got[1])
	if first.webhookID != retry.webhookID || len(first.ids) != 5 || fmt.Sprint(first.ids) != fmt.Sprint(retry.ids) {
		t.Fatalf("first %+v, retry %+v: want the same 5 events under one webhook-id", first, retry)
	}
	if fmt.Sprint(first.ids) != fmt.Sprint(published) {
		t.Errorf("batch order %v, want publication order %v", first.ids, published)
	}
	for _, id := range published {
		attempts := attemptsOf(t, env, domain.DeliveryIDFor(id, hookID))
		if len(attempts) != 2 || attempts[0].StatusCode != 500 || attempts[1].StatusCode != 200 {
			t.Fatalf("delivery of %s records %+v, want the failed and the retried attempt", id, attempts)
		}
		for _, a := range attempts {
			if a.BatchID != first.webhookID || a.BatchSize != 5 {
				t.Errorf("attempt %d of %s in batch %q of %d, want %s of 5", a.Attempt, id, a.BatchID, a.BatchSize, first.webhookID)
			}
		}
	}
}

// A batch still filling waits for company until its oldest event has
// waited maxWaitMs; a full one goes at once.
func TestBatchWaitsToFill(t *testing.T) {
	env := testenv.New(t)
	var skew atomic.Int64
	env.Dispatcher.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(skew.Load())) }
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hookID := batchedWebhook(t, env, p, recv, domain.Batching{MaxEvents: 4, MaxWaitMs: 10_000})
	publishOwed(t, env, hookID, 6)
	env.StartDispatcher(t)

	got := recv.WaitFor(t, 1, 10*time.Second)
	waitFor(t, func() bool { return env.Dispatcher.InFlight() == 0 })
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: hookID}}) // another look changes nothing
	waitFor(t, func() bool { return env.Dispatcher.InFlight() == 0 })
	if n := len(recv.Received()); n != 1 {
		t.Fatalf("%d POSTs before the wait ended, want the one full batch", n)
	}
	var first []delivery.Payload
	if err := json.Unmarshal(got[0].Body, &first); err != nil || len(first) != 4 {
		t.Fatalf("first batch %s (%v), want 4 events", got[0].Body, err)
	}
	skew.Store(int64(11 * time.Second)) // the oldest of the other two has waited maxWaitMs
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: hookID}})
	got = recv.WaitFor(t, 2, 10*time.Second)
	var rest []delivery.Payload
	if err := json.Unmarshal(got[1].Body, &rest); err != nil || len(rest) != 2 {
		t.Fatalf("second batch %s (%v), want the 2 left", got[1].Body, err)
	}
}

func webhookSecret(t *testing.T, env *testenv.Env, p app.Principal, id string) string {
	t.Helper()
	v, err := env.App.Webhook(context.Background(), p, id)
	if err != nil {
		t.Fatal(err)
	}
	return v.Secret
}

// attemptsOf reads a delivery's attempts from its stream.
func attemptsOf(t *testing.T, env *testenv.Env, deliveryID string) []domain.DeliveryAttempted {
	t.Helper()
	recs, err := env.Store.ReadStream(context.Background(), domain.DeliveryStream(deliveryID), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []domain.DeliveryAttempted
	for _, r := range recs {
		ev, err := env.Codec.Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range domain.DeliveryEventParts(ev) {
			if a, ok := part.(domain.DeliveryAttempted); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// A batch's body stops growing at 1 MiB: twelve events of 200 KB each,
// owed at once to a webhook that batches up to 100, arrive in POSTs of at
// most 1 MiB, every event once, and each delivery records the batch (and
// its size) it actually went in.
func TestBatchBodyIsCapped(t *testing.T) {
	env := testenv.New(t)
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hookID := batchedWebhook(t, env, p, recv, domain.Batching{MaxEvents: 100})
	secret := webhookSecret(t, env, p, hookID)
	const n, size = 12, 200 << 10
	filler := strings.Repeat("x", size)
	var published []string
	for i := range n {
		res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, filler))})
		published = append(published, res[0].MessageID)
	}
	waitFor(t, func() bool {
		owed, _, err := due.DueFor(env.ReadDB, hookID, time.Now().Add(time.Hour), n+1, nil)
		return err == nil && len(owed) == n
	})
	env.StartDispatcher(t)
	for _, id := range published {
		waitDelivery(t, env, domain.DeliveryIDFor(id, hookID), domain.DeliveryStatusSucceeded)
	}
	got := recv.Received()
	if len(got) < (n*size)/(1<<20)+1 {
		t.Fatalf("%d POSTs carried %d events of %d KB", len(got), n, size>>10)
	}
	sentIn := map[string]batchRequest{}
	for _, r := range got {
		if len(r.Body) > 1<<20 {
			t.Errorf("a batch body of %d bytes, over 1 MiB", len(r.Body))
		}
		b := readBatch(t, secret, r)
		for _, id := range b.ids {
			if _, dup := sentIn[id]; dup {
				t.Errorf("message %s sent twice", id)
			}
			sentIn[id] = b
		}
	}
	for _, id := range published {
		b, ok := sentIn[id]
		if !ok {
			t.Fatalf("message %s never sent", id)
		}
		attempts := attemptsOf(t, env, domain.DeliveryIDFor(id, hookID))
		if len(attempts) != 1 || attempts[0].BatchID != b.webhookID || attempts[0].BatchSize != len(b.ids) {
			t.Errorf("delivery of %s records %+v, want one attempt in batch %s of %d", id, attempts, b.webhookID, len(b.ids))
		}
	}
}
