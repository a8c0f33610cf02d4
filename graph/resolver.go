// Package graph holds the GraphQL resolvers. They are thin: they translate
// GraphQL into application commands and read-model queries and hold no
// business rules.
package graph

import (
	"log/slog"

	"github.com/webhookd/webhookd/app"
)

// Resolver is the root resolver; its fields are the services the resolvers
// call.
type Resolver struct {
	App    *app.App
	Logger *slog.Logger
	// PublicURL is the server's externally visible base URL
	// (--public-url), from which the API gives absolute links such as
	// Verification.downloadUrl; empty when the operator set none.
	PublicURL string
}
