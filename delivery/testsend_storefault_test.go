package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/faultstore"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/due"
)

// A test send whose record the store refuses pauses dispatch as a lane
// attempt's does, and a test send recorded again ends the pause.
func TestTestSendNotRecordedPausesDispatch(t *testing.T) {
	var fs *faultstore.Store
	env := testenv.NewWith(t, testenv.Options{WrapStore: func(s eventstore.Store) eventstore.Store {
		fs = faultstore.Wrap(s)
		return fs
	}})
	reg := prometheus.NewRegistry()
	env.Dispatcher.Metrics = delivery.NewMetrics(reg, env.Dispatcher.InFlight,
		func() (map[string]due.DueCount, error) { return due.DueCounts(env.ReadDB) })
	logs := &logRecords{}
	env.Dispatcher.Logger = slog.New(logs)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	recv := testenv.NewReceiver(t)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	// Messages of a type the webhook does not take: only the test sends
	// reach it.
	message := func(n int) domain.MessagePublished {
		res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.bounce", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))})
		return domain.MessagePublished{MessageID: res[0].MessageID, AccountID: "acme", Type: "email.bounce", TestWebhookID: hook.ID}
	}

	msg := message(1)
	fs.FailAppends(fmt.Errorf("write events.db: %w", syscall.ENOSPC))
	if _, err := env.Dispatcher.SendTest(context.Background(), hook, msg); err == nil {
		t.Fatal("a test send whose record failed reported success")
	}
	if len(recv.Received()) != 1 {
		t.Fatalf("the receiver got %d test POSTs, want 1", len(recv.Received()))
	}
	if !env.Dispatcher.StorePaused() || pausedGauge(t, reg) != 1 {
		t.Fatal("dispatch not paused after the store refused to record a test send")
	}
	if logs.count("dispatcher: the store refuses writes; dispatch paused") != 1 {
		t.Fatal("no log line says dispatch paused")
	}

	fs.Heal()
	if res, err := env.Dispatcher.SendTest(context.Background(), hook, message(2)); err != nil || !res.Succeeded {
		t.Fatalf("test send after the store healed: %+v, %v", res, err)
	}
	if env.Dispatcher.StorePaused() || pausedGauge(t, reg) != 0 {
		t.Fatal("dispatch still reported paused after a test send was recorded")
	}
	if logs.count("dispatcher: the store records attempts again; dispatch resumed") != 1 {
		t.Fatal("no log line says dispatch resumed")
	}
}
