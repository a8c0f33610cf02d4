package web

// Assets exposes the embedded files to the external tests in web_test,
// which are external so they can run the server serve builds
// (internal/gqltest imports this package).
var Assets = assets
