package graph

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// userErrors turns a domain error into payload userErrors when it is a user
// mistake. Anything else is a fault, returned for the top-level errors.
func userErrors(err error) ([]model.UserError, error) {
	if err == nil {
		return []model.UserError{}, nil
	}
	list := domain.UserErrors(err)
	if len(list) == 0 {
		return nil, err
	}
	out := make([]model.UserError, 0, len(list))
	for _, e := range list {
		code := model.UserErrorCode(e.Code)
		if !code.IsValid() {
			return nil, err // UNAUTHENTICATED and INTERNAL are not user mistakes
		}
		ue := model.UserError{Message: e.Message, Code: code}
		if e.Field != "" {
			ue.Field = append([]string{"input"}, strings.Split(e.Field, ".")...) // "retryPolicy.schedule" is a path
		}
		out = append(out, ue)
	}
	return out, nil
}

// presentError maps errors to GraphQL errors with extensions.code. Domain
// errors keep their safe message; anything else becomes "internal error"
// and is logged with its detail.
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var de *domain.Error
		if errors.As(err, &de) {
			gerr.Message = de.Message
			setCode(gerr, de.Code)
			if de.Code == domain.ESTOREUNAVAILABLE {
				// A fault the caller may retry: say when, as HTTP's
				// Retry-After would (the response itself stays 200).
				gerr.Extensions["retryAfterSeconds"] = domain.StoreRetryAfter
				logger.WarnContext(ctx, "graphql: store refused a write", "path", gerr.Path.String(), "err", err)
			}
			return gerr
		}
		var already *gqlerror.Error
		if errors.As(err, &already) && already.Extensions["code"] != nil {
			return gerr // parse and validation errors carry their own code
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			gerr.Message = "request cancelled or timed out"
			setCode(gerr, "TIMEOUT")
			return gerr
		}
		// The detail is bounded: an error may quote client input.
		logger.ErrorContext(ctx, "graphql resolver fault", "path", gerr.Path.String(), "err", truncate(err.Error(), maxLoggedError))
		gerr.Message = "internal error"
		setCode(gerr, domain.EINTERNAL)
		return gerr
	}
}

// maxLoggedError bounds the error text logged for a fault.
const maxLoggedError = 1024

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// writeError writes a GraphQL-shaped error response for failures that
// happen before the GraphQL engine runs (authentication, body size).
func writeError(w http.ResponseWriter, status int, message, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": map[string]any{"code": code}}},
	})
}
