package redis_test

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd/ratelimit"
	"github.com/webhookd/webhookd/ratelimit/ratelimittest"
	"github.com/webhookd/webhookd/ratelimit/redis"
)

// mustClient connects to the test Redis (WEBHOOKD_TEST_REDIS_URL, default
// redis://127.0.0.1:6379/0), skipping when there is none. Keys written
// under the returned prefix are deleted when the test ends.
func mustClient(tb testing.TB) (*goredis.Client, string) {
	tb.Helper()
	url := os.Getenv("WEBHOOKD_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		tb.Fatalf("parse WEBHOOKD_TEST_REDIS_URL %q: %v", url, err)
	}
	client := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		tb.Skipf("Redis limiter tests: no Redis at %s (%v); set WEBHOOKD_TEST_REDIS_URL to run them", url, err)
	}
	prefix := "webhookd:test:" + rand.Text() + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, "rate:"+prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		client.Close()
	})
	return client, prefix
}

func TestRedis(t *testing.T) {
	client, prefix := mustClient(t)
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Limiter { return redis.NewPrefixed(client, prefix) })
}

func TestDefaultPrefix(t *testing.T) {
	client, prefix := mustClient(t)
	key := prefix + "webhook-1" // under the test prefix so cleanup finds it
	if _, err := redis.New(client).Allow(t.Context(), key, ratelimit.PerMinute(5)); err != nil {
		t.Fatal(err)
	}
	stored := "rate:" + redis.DefaultPrefix + key
	defer client.Del(context.Background(), stored)
	if n, err := client.Exists(t.Context(), stored).Result(); err != nil || n != 1 {
		t.Fatalf("key %s exists = %d, %v; want 1", stored, n, err)
	}
	ttl, err := client.TTL(t.Context(), stored).Result()
	if err != nil || ttl <= 0 || ttl > 12*time.Second+time.Second {
		t.Fatalf("ttl of %s = %s, %v; want it to expire with its reset time", stored, ttl, err)
	}
}

func BenchmarkRedis(b *testing.B) {
	client, prefix := mustClient(b)
	ratelimittest.Benchmark(b, redis.NewPrefixed(client, prefix))
}
