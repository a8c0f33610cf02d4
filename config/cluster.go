package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cluster is the configuration of instances sharing one event store.
type Cluster struct {
	// Dispatch is false for an API-only instance: it serves the API and
	// folds the log, but makes no deliveries and holds no leases.
	Dispatch bool
	// Partitions is how many partitions the webhooks fall into; every
	// instance on a store must use the same count.
	Partitions int
	// LeaseTTL is a partition lease's life without renewal.
	LeaseTTL time.Duration
	// InstanceID names this instance in leases; empty means random.
	InstanceID string
	// RetrySchedule replaces the default delays before each attempt when
	// set (tests and staging use short ones).
	RetrySchedule []time.Duration
}

func buildCluster(get func(string) string, dispatch bool) (Cluster, error) {
	c := Cluster{Dispatch: dispatch, InstanceID: get("instance-id")}
	var err error
	if c.Partitions, err = strconv.Atoi(get("partitions")); err != nil || c.Partitions < 1 || c.Partitions > 4096 {
		return Cluster{}, fmt.Errorf("partitions: %q is not a count from 1 to 4096", get("partitions"))
	}
	if c.LeaseTTL, err = time.ParseDuration(get("lease-ttl")); err != nil || c.LeaseTTL < 300*time.Millisecond {
		return Cluster{}, fmt.Errorf("lease-ttl: %q is not a duration of at least 300ms", get("lease-ttl"))
	}
	if s := get("retry-schedule"); s != "" {
		for _, part := range strings.Split(s, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(part))
			if err != nil || d < 0 {
				return Cluster{}, fmt.Errorf("retry-schedule: %q is not a list of durations such as 0,5s,5m", s)
			}
			c.RetrySchedule = append(c.RetrySchedule, d)
		}
	}
	return c, nil
}
