package graph

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql/playground"
)

// Explorer serves GraphiQL for --dev. It loads GraphiQL's assets from their
// CDN, so it needs a browser with internet access; the API itself does not.
func Explorer(endpoint string) http.Handler {
	return playground.Handler("webhookd GraphQL explorer", endpoint)
}
