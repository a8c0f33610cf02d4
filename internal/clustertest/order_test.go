package clustertest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

// orderedHooks are the webhooks the cluster test makes PER_WEBHOOK
// ordered: the last account's 429-once, slow and always-200 ones (scripts
// 2, 3 and 0). Their line crosses every fault: its owner is killed,
// stopped past its lease and cut off from the store, and the next owner
// must go on from the same head.
func orderedHooks() []int {
	first := (accounts - 1) * len(hookTypes)
	return []int{first + 1, first + 2, first + 3}
}

// orderHooks switches the ordered hooks to PER_WEBHOOK ordering.
func orderHooks(t *testing.T, in *instance, hooks []hook, keys []string) {
	for _, i := range orderedHooks() {
		h := hooks[i]
		c := &gqltest.Client{URL: in.base() + "/graphql", Key: keys[h.account]}
		var out struct {
			UpdateWebhook struct{ UserErrors []gqltest.UserError }
		}
		c.MustData(t, `mutation($in: UpdateWebhookInput!) { updateWebhook(input: $in) { userErrors { field message code } } }`,
			map[string]any{"in": map[string]any{"id": domain.EncodeGlobalID("Webhook", h.id), "ordering": map[string]any{"mode": "PER_WEBHOOK"}}}, &out)
		if len(out.UpdateWebhook.UserErrors) > 0 {
			t.Fatalf("ordering webhook %d: %+v", i, out.UpdateWebhook.UserErrors)
		}
	}
}

// checkOrder asserts ordered delivery across the cluster: on each ordered
// webhook, no message was sent before the one published before it (in
// log order) had been answered 200. A message sent again after a fault
// (its 200 was not recorded) may arrive twice; only its first 200 counts.
func checkOrder(t *testing.T, in checkInput) {
	pos := publishedPositions(t, in.dbURL)
	posts, _ := in.recv.snapshot()
	firstPost, first200 := map[string]time.Time{}, map[string]time.Time{}
	for _, p := range posts {
		k := strconv.Itoa(p.webhook) + "/" + p.msgID
		if at, seen := firstPost[k]; !seen || p.at.Before(at) {
			firstPost[k] = p.at
		}
		if at, seen := first200[k]; p.status == http.StatusOK && (!seen || p.done.Before(at)) {
			first200[k] = p.done
		}
	}
	for _, h := range orderedHooks() {
		var ids []string
		for seq, id := range in.acked {
			if hookFor(seq) == h {
				ids = append(ids, id)
			}
		}
		slices.SortFunc(ids, func(a, b string) int { return int(pos[a] - pos[b]) })
		violations := 0
		for i := 1; i < len(ids); i++ {
			prev, next := strconv.Itoa(h)+"/"+ids[i-1], strconv.Itoa(h)+"/"+ids[i]
			if done, ok := first200[prev]; !ok || firstPost[next].Before(done) {
				if violations < 5 {
					t.Logf("webhook %d: message %s was sent at %s, before %s (published before it) was answered 200 at %s",
						h, ids[i], firstPost[next].Format(time.StampMilli), ids[i-1], done.Format(time.StampMilli))
				}
				violations++
			}
		}
		t.Logf("ordered webhook %d (script %d): %d messages, %d sent out of order", h, h%4, len(ids), violations)
		if violations > 0 {
			t.Errorf("ordered webhook %d: %d messages sent before the one before them succeeded", h, violations)
		}
	}
}

// publishedPositions returns each message's log position: the order its
// ordered webhooks must receive it in.
func publishedPositions(t *testing.T, dbURL string) map[string]int64 {
	c := connectDirect(t, dbURL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer c.Close(context.Background())
	rows, err := c.Query(ctx, `SELECT pos, data FROM webhookd_events WHERE type = $1`, domain.MessagePublished{}.EventType())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var p int64
		var data []byte
		var m struct {
			MessageID string `json:"messageId"`
		}
		if err := rows.Scan(&p, &data); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		out[m.MessageID] = p
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
