package main

import (
	"fmt"
	"os"

	"github.com/webhookd/webhookd/domain"
)

// loadPortalTheme reads --portal-theme-file, the portal's default theme;
// no file is webhookd's own look.
func loadPortalTheme(path string) (domain.PortalTheme, error) {
	if path == "" {
		return domain.PortalTheme{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return domain.PortalTheme{}, fmt.Errorf("portal-theme-file: %w", err)
	}
	theme, err := domain.ParsePortalTheme(data)
	if err != nil {
		return domain.PortalTheme{}, fmt.Errorf("portal-theme-file %s: %w", path, err)
	}
	return theme, nil
}
