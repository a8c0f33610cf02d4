// Package bench holds webhookd's end-to-end benchmarks: throughput,
// publish-to-receive latency, isolation from failing endpoints and memory
// with a million pending deliveries, each against the real core on a durable
// store with receivers on loopback, plus a bare net/http baseline for the
// ceiling of the same machine. The benchmarks print figures and never assert
// timings; docs/performance.md records the results and the commands.
package bench
