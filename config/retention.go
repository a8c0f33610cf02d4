package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RetentionCategories are the stream categories --retention may limit:
// published messages and deliveries, which grow with traffic. Webhook and
// account streams are aggregates whose whole history is their state and
// their audit trail, so they are never expired. The names are the domain's
// MessageStreamCategory and DeliveryStreamCategory.
var RetentionCategories = []string{"message", "delivery"}

// MinRetention is the shortest age --retention accepts (besides 0, no
// limit). A delivery's retries span about four days and a webhook whose
// deliveries all fail is disabled after five, so a shorter age could expire
// messages and deliveries that are still owed.
const MinRetention = 7 * 24 * time.Hour

// ParseRetention parses --retention: comma-separated category=age pairs
// such as "message=30d,delivery=90d". An age is a whole number of days
// ("30d") or a Go duration ("720h") of at least MinRetention; "0" means no
// limit. Each category may
// appear once and must be one of RetentionCategories, so a misspelt name is
// refused rather than silently keeping everything. Categories not named get
// no limit.
func ParseRetention(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		category, value, ok := strings.Cut(part, "=")
		category, value = strings.TrimSpace(category), strings.TrimSpace(value)
		if !ok {
			return nil, fmt.Errorf("retention: %q is not category=age", part)
		}
		if !slices.Contains(RetentionCategories, category) {
			return nil, fmt.Errorf("retention: category %q is not one of %s", category, strings.Join(RetentionCategories, ", "))
		}
		if _, dup := out[category]; dup {
			return nil, fmt.Errorf("retention: category %q given twice", category)
		}
		age, err := parseAge(value)
		if err != nil {
			return nil, fmt.Errorf("retention: %s: %w", category, err)
		}
		if age != 0 && age < MinRetention {
			return nil, fmt.Errorf("retention: %s: %s is shorter than the 7 days owed deliveries may still need", category, value)
		}
		out[category] = age
	}
	return out, nil
}

// parseAge reads "30d", "720h" or "0" as a non-negative duration.
func parseAge(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number of days", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a non-negative duration such as 30d or 720h", v)
	}
	return d, nil
}
