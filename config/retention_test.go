package config

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestParseRetention(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name string
		in   string
		want map[string]time.Duration
		err  string // part of the error; "" for success
	}{
		{"Empty", "", map[string]time.Duration{}, ""},
		{"OK", "message=30d,delivery=90d", map[string]time.Duration{"message": 30 * day, "delivery": 90 * day}, ""},
		{"Spaces", " message = 30d , delivery=90d ,", map[string]time.Duration{"message": 30 * day, "delivery": 90 * day}, ""},
		{"GoDuration", "delivery=720h", map[string]time.Duration{"delivery": 30 * day}, ""},
		{"Minimum", "delivery=7d", map[string]time.Duration{"delivery": 7 * day}, ""},
		{"ErrBelowMinimum", "delivery=6d", nil, "shorter than"},
		{"ErrBelowMinimumDuration", "message=167h", nil, "shorter than"},
		{"ZeroIsNoLimit", "message=0", map[string]time.Duration{"message": 0}, ""},
		{"OneCategory", "message=400d", map[string]time.Duration{"message": 400 * day}, ""},
		{"ErrNoEquals", "message30d", nil, "category=age"},
		{"ErrUnknownCategory", "messages=30d", nil, `"messages"`},
		{"ErrAggregateCategory", "webhook=30d", nil, `"webhook"`},
		{"ErrTwice", "message=10d,message=20d", nil, "twice"},
		{"ErrNegative", "message=-1h", nil, "non-negative"},
		{"ErrNegativeDays", "message=-1d", nil, "whole number of days"},
		{"ErrFractionDays", "message=1.5d", nil, "whole number of days"},
		{"ErrGarbage", "delivery=soon", nil, "delivery"},
		{"ErrEmptyAge", "delivery=", nil, "delivery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRetention(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "retention") {
					t.Fatalf("ParseRetention(%q) = %v, %v; want an error about retention mentioning %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tt.want) {
				t.Fatalf("ParseRetention(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRetentionFlagAndEnv(t *testing.T) {
	t.Run("Flag", func(t *testing.T) {
		c, err := Parse("serve", []string{"--retention", "message=30d,delivery=90d"}, env(nil))
		if err != nil || c.Retention["message"] != 30*24*time.Hour || c.Retention["delivery"] != 90*24*time.Hour {
			t.Fatalf("got %v, %v", c.Retention, err)
		}
	})
	t.Run("EnvThenFlagWins", func(t *testing.T) {
		c, err := Parse("serve", []string{"--retention", "delivery=10d"}, env(map[string]string{"WEBHOOKD_RETENTION": "message=20d"}))
		if err != nil || len(c.Retention) != 1 || c.Retention["delivery"] != 10*24*time.Hour {
			t.Fatalf("got %v, %v", c.Retention, err)
		}
	})
	t.Run("ErrRefusedAtParse", func(t *testing.T) {
		if _, err := Parse("serve", nil, env(map[string]string{"WEBHOOKD_RETENTION": "account=1d"})); err == nil || !strings.Contains(err.Error(), "retention") {
			t.Fatalf("err = %v", err)
		}
	})
}
