package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/faultstore"
	"github.com/webhookd/webhookd/internal/testenv"
	)

// heldRecordsEnv is a core whose delivery records wait until the test
// lets them through, with one webhook at maxConcurrency 1 that is owed n
// messages.
func heldRecordsEnv(t *testing.T, n int) (*testenv.Env, *faultstore.Store, *testenv.Receiver, []string) {
	t.Helper()
	var fs *faultstore.Store
	env := testenv.NewWith(t, testenv.Options{WrapStore: func(s eventstore.Store) eventstore.Store {
		fs = faultstore.Wrap(s)
		return fs
	}})
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	one := 1
	hook, err := env.App.UpdateWebhook(context.Background(), p, hook.ID, nil, domain.UpdateWebhook{MaxConcurrency: &one})
	if err != nil {
		t.Fatal(err)
	}
	var deliveries []string
	for i := range n {
		res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		deliveries = append(deliveries, domain.DeliveryIDFor(res[0].MessageID, hook.ID))
	}
	fs.HoldAppends(domain.DeliveryStreamCategory + "-")
	return env, fs, recv, deliveries
}

// A 2xx answer gives the attempt's slot back before the attempt is
// recorded: with records stalled, a lane at maxConcurrency 1 goes on
// sending, but only as far as recordingPerSlot (4) answered attempts
// waiting for their record, so a stalled store stops the lane instead of
// piling up unrecorded attempts. Once the records go through, each
// message was sent exactly once and every delivery is recorded.
func TestAnsweredAttemptFreesItsSlotBeforeItsRecord(t *testing.T) {
	const owed, bound = 8, 1 + 4 // one in flight, four answered and waiting
	env, fs, recv, deliveries := heldRecordsEnv(t, owed)
	env.StartDispatcher(t)
	recv.WaitFor(t, bound, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // the window in which a sixth request would go out
	if n := len(recv.Received()); n != bound {
		t.Fatalf("%d requests went out with every record stalled; want %d (1 in flight, 4 answered)", n, bound)
	}
	fs.ReleaseAppends()
	recv.WaitFor(t, owed, 10*time.Second)
	for _, id := range deliveries {
		waitDelivery(t, env, id, domain.DeliveryStatusSucceeded)
	}
	for id, n := range postsPerMessage(recv) {
		if n != 1 {
			t.Errorf("message %s sent %d times", id, n)
		}
	}
}

// An answer other than 2xx keeps its slot until the attempt is recorded:
// what it does to the lane (a slow-down, a pause) is decided with the
// record, and the lane must not send more before that.
func TestFailedAttemptKeepsItsSlotUntilRecorded(t *testing.T) {
	env, fs, recv, _ := heldRecordsEnv(t, 3)
	recv.Respond(http.StatusInternalServerError, 0)
	env.StartDispatcher(t)
	recv.WaitFor(t, 1, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // the window in which a second request would go out
	if n := len(recv.Received()); n != 1 {
		t.Fatalf("%d requests went out at maxConcurrency 1 with the first failure unrecorded; want 1", n)
	}
	fs.ReleaseAppends() // before the dispatcher's stop waits for the attempt
}
