package main

import (
	"context"
	"fmt"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/esdb"
)

func openESDB(ctx context.Context, url string) (eventstore.Store, error) {
	s, err := esdb.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open EventStoreDB: %w", err)
	}
	return s, nil
}
