package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

// TestWebhookUpdatedFanOut opens 500 webhookUpdated subscriptions over as
// many websockets (10 accounts × 5 webhooks × 10 subscribers), changes
// every webhook twice, and checks that each subscriber receives exactly
// its own webhook's changes. Closing every connection must leave no
// goroutine and no broker subscriber behind.
func TestWebhookUpdatedFanOut(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 500 websockets")
	}
	const accounts, hooksPer, subsPer, rounds = 10, 5, 10, 2
	srv := gqltest.NewServer(t)

	type target struct {
		client *gqltest.Client
		hook   gqltest.Webhook
	}
	var targets []target
	for a := range accounts {
		c := srv.AccountClient(t, fmt.Sprintf("acct-%d", a), domain.ScopeAccount)
		for h := range hooksPer {
			targets = append(targets, target{c, c.MustCreateWebhook(t, fmt.Sprintf("hook %d/%d", a, h), "http://127.0.0.1:1/in")})
		}
	}
	srv.HTTPClient.CloseIdleConnections()
	before := settledGoroutines(0)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type sub struct {
		conn *gqltest.Conn
		hook string
	}
	subs := make([]sub, len(targets)*subsPer)
	errs := make(chan error, len(subs))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range subs {
		tg := targets[i%len(targets)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			conn, err := srv.Dial(ctx, tg.client.Key)
			if err != nil {
				errs <- err
				return
			}
			subs[i] = sub{conn, tg.hook.ID}
			if err := conn.Subscribe(ctx, "1", webhookUpdatedSub, map[string]any{"id": tg.hook.ID}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	closeAll := func() {
		for _, s := range subs {
			if s.conn != nil {
				wg.Add(1)
				go func() { defer wg.Done(); s.conn.Close() }()
			}
		}
		wg.Wait()
	}
	defer closeAll()
	waitFor(t, func() bool { return srv.Env.Broker.Len() == len(subs) })

	// Each webhook gets renamed `rounds` times; its subscribers must see
	// every name, in order, and nothing of any other webhook.
	want := map[string][]string{}
	for r := range rounds {
		for _, tg := range targets {
			name := fmt.Sprintf("%s round %d", tg.hook.Name, r)
			tg.client.MustData(t, updateName, map[string]any{"input": map[string]any{"id": tg.hook.ID, "name": name}}, nil)
			want[tg.hook.ID] = append(want[tg.hook.ID], name)
		}
	}
	results := make(chan error, len(subs))
	for _, s := range subs {
		go func() { results <- expectUpdates(ctx, s.conn, s.hook, want[s.hook]) }()
	}
	for range subs {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}

	closeAll()
	srv.HTTPClient.CloseIdleConnections()
	waitFor(t, func() bool { return srv.Env.Broker.Len() == 0 })
	if after := settledGoroutines(before); after > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before the subscriptions, %d after closing them all:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// expectUpdates reads one message per change of hook (names are its
// names in order) and checks each is about hook and none goes back in time.
func expectUpdates(ctx context.Context, conn *gqltest.Conn, hook string, names []string) error {
	seen := -1
	for i := range names {
		m, err := conn.Next(ctx)
		if err != nil {
			return fmt.Errorf("subscriber of %s after %d of %d updates: %w", hook, i, len(names), err)
		}
		var p struct {
			Data struct {
				WebhookUpdated gqltest.Webhook `json:"webhookUpdated"`
			} `json:"data"`
		}
		if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil {
			return fmt.Errorf("subscriber of %s got %s %s", hook, m.Type, m.Payload)
		}
		got := p.Data.WebhookUpdated
		if got.ID != hook {
			return fmt.Errorf("subscriber of %s got webhook %s", hook, got.ID)
		}
		// A change is reloaded after its commit, so it may already show a
		// later name, never an earlier one.
		j := indexOf(names, got.Name)
		if j < seen || j < 0 {
			return fmt.Errorf("subscriber of %s got name %q after %q", hook, got.Name, names[max(seen, 0)])
		}
		seen = j
	}
	if seen != len(names)-1 {
		return fmt.Errorf("subscriber of %s never saw the final name %q", hook, names[len(names)-1])
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// settledGoroutines waits up to 10 s for the goroutine count to drop to
// target (0: until it stops changing) and returns it.
func settledGoroutines(target int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		m := runtime.NumGoroutine()
		if target > 0 && m <= target || target == 0 && m == n {
			return m
		}
		n = m
	}
	return n
}

// TestWebhookUpdatedDeleted checks that a subscriber learns of a deletion:
// the last message must not present the webhook as still working.
func TestWebhookUpdatedDeleted(t *testing.T) {
	srv := gqltest.NewServer(t)
	c := srv.AccountClient(t, "acct-a", domain.ScopeAccount)
	hook := c.MustCreateWebhook(t, "short-lived", "http://127.0.0.1:1/in")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := srv.Dial(ctx, c.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Subscribe(ctx, "1", `subscription($id: ID) { webhookUpdated(id: $id) { id status disabledReason } }`, map[string]any{"id": hook.ID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return srv.Env.Broker.Len() == 1 })
	c.MustData(t, `mutation($id: ID!) { deleteWebhook(input: {id: $id}) { userErrors { code } } }`, map[string]any{"id": hook.ID}, nil)
	m, err := conn.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Data struct {
			WebhookUpdated struct {
				ID             string  `json:"id"`
				Status         string  `json:"status"`
				DisabledReason *string `json:"disabledReason"`
			} `json:"webhookUpdated"`
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		t.Fatal(err)
	}
	got := p.Data.WebhookUpdated
	if got.ID != hook.ID || got.Status != "DELETED" {
		t.Errorf("after deletion the subscriber got %s, want the webhook DELETED", m.Payload)
	}
}
