package graph_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

const updateName = `mutation($input: UpdateWebhookInput!) {
	updateWebhook(input: $input) { webhook { id name revision } userErrors { field message code } }
}`

// TestConcurrentUpdates races 50 updates of one webhook, half of them
// pinned to the revision read beforehand. Every call either applies or
// answers CONFLICT; retried until all apply, the history holds exactly one
// update per call, with contiguous revisions.
func TestConcurrentUpdates(t *testing.T) {
	const n = 50
	srv := gqltest.NewServer(t)
	c := srv.AccountClient(t, "acct-a", domain.ScopeAccount)
	hook := c.MustCreateWebhook(t, "original", "http://127.0.0.1:1/hooks")

	// update runs one updateWebhook and reports whether it applied; any
	// answer other than success or CONFLICT fails the test.
	update := func(i int, pinned bool) (applied bool, err error) {
		input := map[string]any{"id": hook.ID, "name": fmt.Sprintf("name-%02d", i)}
		if pinned {
			w := c.WebhookByID(t, hook.ID)
			input["expectedRevision"] = w.Revision
		}
		r, err := c.Post(t.Context(), updateName, map[string]any{"input": input})
		if err != nil {
			return false, err
		}
		return classify(r)
	}

	pinnedRevision := hook.Revision
	start := make(chan struct{})
	var wg sync.WaitGroup
	firstTry := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			input := map[string]any{"id": hook.ID, "name": fmt.Sprintf("name-%02d", i)}
			if i%2 == 0 {
				input["expectedRevision"] = pinnedRevision // read beforehand
			}
			<-start
			firstTry[i], errs[i] = func() (bool, error) {
				r, err := c.Post(t.Context(), updateName, map[string]any{"input": input})
				if err != nil {
					return false, err
				}
				return classify(r)
			}()
		}()
	}
	close(start)
	wg.Wait()
	applied, conflicted := 0, 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if firstTry[i] {
			applied++
		} else {
			conflicted++
		}
	}
	pinnedApplied := 0
	for i := 0; i < n; i += 2 {
		if firstTry[i] {
			pinnedApplied++
		}
	}
	if pinnedApplied > 1 {
		t.Errorf("%d updates pinned to revision %d applied; at most one may", pinnedApplied, pinnedRevision)
	}
	t.Logf("first round: %d applied, %d CONFLICT", applied, conflicted)

	// Retry every conflicted call until it applies, re-reading the
	// revision each time for the pinned ones.
	for i := range n {
		for tries := 0; !firstTry[i]; tries++ {
			if tries == 20 {
				t.Fatalf("call %d still conflicts after 20 sequential retries", i)
			}
			ok, err := update(i, i%2 == 0)
			if err != nil {
				t.Fatalf("retry of call %d: %v", i, err)
			}
			firstTry[i] = ok
		}
	}

	history := c.History(t, hook.ID)
	seen := map[string]int{}
	last := ""
	for rev, e := range history {
		if e.Revision != rev {
			t.Fatalf("history revisions are not contiguous: event %d has revision %d (%v)", rev, e.Revision, types(history))
		}
		if e.Type == "webhook.updated.v1" {
			name, _ := e.Data["name"].(string)
			seen[name]++
			last = name
		}
	}
	for i := range n {
		if name := fmt.Sprintf("name-%02d", i); seen[name] != 1 {
			t.Errorf("%s was recorded %d times, want exactly once", name, seen[name])
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct updates recorded, want %d: %v", len(seen), n, seen)
	}
	final := c.WebhookByID(t, hook.ID)
	if final.Name != last || final.Revision != history[len(history)-1].Revision {
		t.Errorf("webhook is %q at revision %d; the history ends with %q at revision %d", final.Name, final.Revision, last, history[len(history)-1].Revision)
	}
}

// classify reads an updateWebhook answer: applied, CONFLICT, or an error
// for anything else.
func classify(r *gqltest.Response) (bool, error) {
	var out struct {
		UpdateWebhook struct {
			Webhook    *gqltest.Webhook    `json:"webhook"`
			UserErrors []gqltest.UserError `json:"userErrors"`
		} `json:"updateWebhook"`
	}
	if len(r.Errors) > 0 {
		return false, fmt.Errorf("top-level errors: %s", r.Body)
	}
	if err := r.Decode(&out); err != nil {
		return false, err
	}
	ue := out.UpdateWebhook.UserErrors
	switch {
	case len(ue) == 0 && out.UpdateWebhook.Webhook != nil:
		return true, nil
	case len(ue) == 1 && ue[0].Code == domain.ECONFLICT && out.UpdateWebhook.Webhook == nil:
		return false, nil
	}
	return false, fmt.Errorf("neither applied nor CONFLICT: %s", r.Body)
}
