package projections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/history"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// dump renders every read-model bucket (not the checkpoint) as text, so two
// read models can be compared exactly.
func dump(t *testing.T, db *bbolt.DB) string {
	t.Helper()
	var buf bytes.Buffer
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			// Neither is a read model: the runner's checkpoint, and the
			// operational reactor's own state, which it advances beside the
			// runner and a rebuild leaves alone.
			if string(name) == "checkpoints" || string(name) == "operational" {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				fmt.Fprintf(&buf, "%s %x %s\n", name, k, v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func createWebhook(t *testing.T, env *testenv.Env, acct string, n int) string {
	t.Helper()
	p, _ := env.AccountKey(t, acct, domain.ScopeAccount)
	var last string
	for i := 0; i < n; i++ {
		v, err := env.App.CreateWebhook(context.Background(), p, domain.CreateWebhook{
			Name: fmt.Sprintf("hook %d", i), URL: fmt.Sprintf("https://example.com/%s/%d", acct, i),
			EventTypes: []string{"email.bounce", "email.delivery"},
		})
		if err != nil {
			t.Fatal(err)
		}
		last = v.ID
	}
	return last
}

func TestRebuildEqualsLive(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	for i := 0; i < 30; i++ {
		v, err := env.App.CreateWebhook(ctx, p, domain.CreateWebhook{
			Name: fmt.Sprintf("hook %d", i), URL: fmt.Sprintf("https://example.com/h/%d", i),
			EventTypes: []string{"email.bounce"},
		})
		if err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			_, err = env.App.PauseWebhook(ctx, p, v.ID)
		case 1:
			err = env.App.DeleteWebhook(ctx, p, v.ID)
		case 2:
			_, err = env.App.RotateWebhookSecret(ctx, p, v.ID, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	live := dump(t, env.ReadDB)
	if !strings.Contains(live, "webhooks_by_account") || !strings.Contains(live, "history") {
		t.Fatalf("live read model is missing buckets:\n%.500s", live)
	}
	var pages int
	if err := env.Runner.Rebuild(ctx, func(eventstore.Position, time.Duration) { pages++ }); err != nil {
		t.Fatal(err)
	}
	if pages == 0 {
		t.Error("rebuild reported no progress")
	}
	if rebuilt := dump(t, env.ReadDB); rebuilt != live {
		t.Fatalf("rebuilt read model differs from the live one\nlive:\n%.2000s\nrebuilt:\n%.2000s", live, rebuilt)
	}
}

func TestListWebhooks(t *testing.T) {
	env := testenv.New(t)
	createWebhook(t, env, "acme", 5)
	createWebhook(t, env, "other", 2)

	t.Run("NewestFirstPaged", func(t *testing.T) {
		page, err := webhooks.ListWebhooks(env.ReadDB, "acme", webhooks.WebhookFilter{}, 2, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Webhooks) != 2 || !page.HasNextPage || page.TotalCount != 5 || page.Webhooks[0].Name != "hook 4" {
			t.Fatalf("first page: %d webhooks, next=%v total=%d first=%q", len(page.Webhooks), page.HasNextPage, page.TotalCount, page.Webhooks[0].Name)
		}
		var names []string
		after := ""
		for {
			page, err := webhooks.ListWebhooks(env.ReadDB, "acme", webhooks.WebhookFilter{}, 2, after)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range page.Webhooks {
				names = append(names, w.Name)
			}
			if !page.HasNextPage {
				break
			}
			after = page.Cursors[len(page.Cursors)-1]
		}
		if got := strings.Join(names, ","); got != "hook 4,hook 3,hook 2,hook 1,hook 0" {
			t.Fatalf("paged listing = %s", got)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		page, _ := webhooks.ListWebhooks(env.ReadDB, "acme", webhooks.WebhookFilter{EventType: "email.open"}, 10, "")
		if len(page.Webhooks) != 0 {
			t.Errorf("event type filter matched %d", len(page.Webhooks))
		}
		page, _ = webhooks.ListWebhooks(env.ReadDB, "acme", webhooks.WebhookFilter{Status: "unverified"}, 10, "")
		if len(page.Webhooks) != 5 {
			t.Errorf("unverified filter matched %d, want 5", len(page.Webhooks))
		}
		page, _ = webhooks.ListWebhooks(env.ReadDB, "acme", webhooks.WebhookFilter{Status: "active"}, 10, "")
		if len(page.Webhooks) != 0 {
			t.Errorf("active filter matched %d unverified webhooks", len(page.Webhooks))
		}
	})
	t.Run("ErrBadCursor", func(t *testing.T) {
		_, err := webhooks.ListWebhooks(env.ReadDB, "acme", webhooks.WebhookFilter{}, 2, "***")
		if domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("OtherAccountNotFound", func(t *testing.T) {
		id := createWebhook(t, env, "third", 1)
		if _, ok, _ := webhooks.GetWebhook(env.ReadDB, "acme", id); ok {
			t.Fatal("account acme can read another account's webhook")
		}
		if _, ok, _ := webhooks.GetWebhook(env.ReadDB, "third", id); !ok {
			t.Fatal("owner cannot read its webhook")
		}
	})
}

func TestHistoryRedactsSecrets(t *testing.T) {
	env := testenv.New(t)
	id := createWebhook(t, env, "acme", 1)
	page, err := history.ReadHistory(env.ReadDB, domain.WebhookStream(id), 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) == 0 || page.Entries[0].Type != "webhook.created.v1" {
		t.Fatalf("history = %+v", page.Entries)
	}
	var data map[string]any
	if err := json.Unmarshal(page.Entries[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if data["secret"] != "[redacted]" {
		t.Fatalf("secret not redacted: %v", data["secret"])
	}
	if strings.Contains(string(page.Entries[0].Data), "whsec_") {
		t.Fatal("history leaks a signing secret")
	}
}
