package clustertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// load publishes n messages at rate per second through /v1/events, round
// robin over the instances that are up; a batch that fails is sent again,
// with the same event IDs (so at most once), to the next instance.
type load struct {
	instances []*instance
	up        []atomic.Bool
	key       string
	accounts  int
	mu        sync.Mutex
	acked     map[int]string // message number -> message ID
}

func newLoad(instances []*instance, key string, accounts int) *load {
	l := &load{instances: instances, up: make([]atomic.Bool, len(instances)), key: key, accounts: accounts, acked: map[int]string{}}
	for i := range l.up {
		l.up[i].Store(true)
	}
	return l
}

func (l *load) run(n, rate int) {
	const batch = 10
	tick := time.NewTicker(time.Second * batch / time.Duration(rate))
	defer tick.Stop()
	client := &http.Client{Timeout: 5 * time.Second}
	next := 0
	for seq := 0; seq < n; seq += batch {
		<-tick.C
		var body bytes.Buffer
		for i := seq; i < min(seq+batch, n); i++ {
			a := i % l.accounts
			typ := hookTypes[(i/l.accounts)%len(hookTypes)]
			fmt.Fprintf(&body, `{"id":"m-%d","account":"acc-%d","type":"%s","data":{"n":%d}}`+"\n", i, a, typ, i)
		}
		for try := 0; ; try++ {
			k := next % len(l.instances)
			next++
			if !l.up[k].Load() {
				continue
			}
			if ids, err := l.send(client, l.instances[k], body.Bytes()); err == nil {
				l.mu.Lock()
				for j, id := range ids {
					l.acked[seq+j] = id
				}
				l.mu.Unlock()
				break
			}
			if try > 100 {
				break // nothing acknowledged; the checks count only acknowledged messages
			}
		}
	}
}

func (l *load) send(c *http.Client, in *instance, body []byte) ([]string, error) {
	req, _ := http.NewRequest(http.MethodPost, in.base()+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+l.key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Status    string `json:"status"`
			MessageID string `json:"messageId"`
		} `json:"results"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	ids := make([]string, len(out.Results))
	for i, r := range out.Results {
		if r.Status != "accepted" && r.Status != "duplicate" {
			return nil, fmt.Errorf("event %d: %s", i, r.Status)
		}
		ids[i] = r.MessageID
	}
	return ids, nil
}

func (l *load) acknowledged() map[int]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]string, len(l.acked))
	for k, v := range l.acked {
		out[k] = v
	}
	return out
}
