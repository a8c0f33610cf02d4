package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/signature"
)

// target is one webhook's endpoint and secret, as the baseline sees it.
type target struct {
	url    string
	secret string
}

// baseline POSTs n signed payloads, spread evenly over targets, with
// perTarget requests in flight to each: the work of a delivery without the
// store, the projections or the dispatcher. It returns the elapsed time.
func baseline(tb testing.TB, targets []target, n, perTarget int) time.Duration {
	tb.Helper()
	// Pooled as the sender's client is (netguard.NewHTTPClient).
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256}, Timeout: 15 * time.Second}
	defer client.CloseIdleConnections()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(targets)*perTarget)
	for ti, t := range targets {
		share := n / len(targets)
		if ti < n%len(targets) {
			share++
		}
		signer, err := signature.NewSigner([]string{t.secret})
		if err != nil {
			tb.Fatal(err)
		}
		work := make(chan int, share)
		for i := range share {
			work <- i
		}
		close(work)
		for range perTarget {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range work {
					if err := post(client, signer, t.url); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return elapsed
}

// post sends one payload shaped and signed as a delivery is.
func post(client *http.Client, signer *signature.Signer, url string) error {
	id := uuid.Must(uuid.NewV7()).String()
	now := time.Now().UTC()
	body, err := json.Marshal(delivery.Payload{ID: id, Type: "bench.t0", Timestamp: now, Account: account, Data: eventData})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "webhookd/1")
	signer.SetHeaders(req.Header, id, now, body)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("baseline POST: status %d", resp.StatusCode)
	}
	return nil
}
