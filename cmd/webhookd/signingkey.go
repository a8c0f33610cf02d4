package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/webhookd/webhookd/signature"
)

// loadSigningKey reads the v1a signing key, creating it (mode 0600) on
// first use so that turning asymmetric signatures on is one flag.
func loadSigningKey(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err := signature.NewSigningKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(signature.FormatSigningKey(k)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := signature.ParseSigningKey(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}
