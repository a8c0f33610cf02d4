package main

import (
	"reflect"
	"testing"
)

// TestRetryScheduleShowsInTheAPI runs the real service with
// --retry-schedule: a webhook on the default schedule shows the
// configured delays, which are the ones the dispatcher retries by, not the
// built-in three days.
func TestRetryScheduleShowsInTheAPI(t *testing.T) {
	m := mustRunMainArgs(t, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--dev", "--retry-schedule", "0,2s,30s,5m")

	var out struct {
		CreateWebhook struct {
			Webhook struct {
				RetryPolicy struct {
					Schedule      string
					DelaysSeconds []int
					MaxAttempts   int
					TotalSeconds  int
				}
			}
		}
	}
	client(m, m.DemoKey()).MustData(t, `mutation { createWebhook(input: {name: "retries", url: "http://127.0.0.1:1/in", eventTypes: ["email.bounce"]}) {
		webhook { retryPolicy { schedule delaysSeconds maxAttempts totalSeconds } } userErrors { message } } }`, nil, &out)
	p := out.CreateWebhook.Webhook.RetryPolicy
	if p.Schedule != "DEFAULT" || !reflect.DeepEqual(p.DelaysSeconds, []int{2, 30, 300}) || p.MaxAttempts != 4 || p.TotalSeconds != 332 {
		t.Fatalf("retryPolicy under --retry-schedule 0,2s,30s,5m: %+v", p)
	}
}
