package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/eventstore"
)

// applyRetention gives the store the max age --retention names for each of
// config.RetentionCategories, at every start and on every backend. The flag
// is the whole policy: a category it does not name gets no limit, so
// removing an entry from the flag lifts that limit instead of leaving an
// old one persisted in the store.
func applyRetention(ctx context.Context, s eventstore.Store, ages map[string]time.Duration, logger *slog.Logger) error {
	for _, category := range config.RetentionCategories {
		age := ages[category]
		if err := s.SetMaxAge(ctx, category, age); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		if age > 0 {
			logger.Info("retention", "category", category, "max_age", age.String())
		}
	}
	return nil
}
