#!/bin/sh
# Refreshes the vendored GraphiQL explorer assets from the npm registry.
# Usage: graph/explorer/refresh.sh [GRAPHIQL_VERSION [REACT_VERSION]]
# Update the versions in README.md and explorer_test.go's expectations
# together with a refresh.
set -eu
GRAPHIQL=${1:-4.1.2}
REACT=${2:-18.3.1} # the last React with UMD builds; GraphiQL 4 accepts ^18 || ^19
here=$(cd "$(dirname "$0")" && pwd)
vendor="$here/assets/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for p in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
	mkdir "${p%-*}"
	tar -xzf "$p.tgz" -C "${p%-*}" --strip-components=1
done
rm -rf "$vendor"
mkdir -p "$vendor/graphiql" "$vendor/react" "$vendor/react-dom"
cp graphiql/graphiql.min.js graphiql/graphiql.min.css graphiql/LICENSE "$vendor/graphiql/"
cp react/umd/react.production.min.js react/LICENSE "$vendor/react/"
cp react-dom/umd/react-dom.production.min.js react-dom/LICENSE "$vendor/react-dom/"
# The source maps are not vendored; drop the comment that points at them.
sed -i '/^\/\/# sourceMappingURL=/d' "$vendor/graphiql/graphiql.min.js"
printf 'graphiql %s\nreact %s\nreact-dom %s\n' "$GRAPHIQL" "$REACT" "$REACT" >"$vendor/VERSIONS"
du -sh "$vendor"
