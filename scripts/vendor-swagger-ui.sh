#!/usr/bin/env bash
# Refresh the vendored Swagger UI that /api/docs serves (sandbox/static/swagger-ui*), so the API
# explorer works offline. Takes the files from the npm package swagger-ui-dist (Apache-2.0) with
# `npm pack`; run it by hand when upgrading, then commit the result.
#   bash scripts/vendor-swagger-ui.sh [VERSION]   (default: the version pinned below)
set -euo pipefail
VERSION="${1:-5.35.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/sandbox/static"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null
tar xzf "swagger-ui-dist-$VERSION.tgz"
# The source maps are not shipped: drop the comments that point at them.
sed '/^\/\/# sourceMappingURL=/d' package/swagger-ui-bundle.js >"$DEST/swagger-ui-bundle.js"
sed 's|/\*# sourceMappingURL=[^*]*\*/||' package/swagger-ui.css >"$DEST/swagger-ui.css"
cp package/swagger-ui-bundle.js.LICENSE.txt "$DEST/swagger-ui-bundle.js.LICENSE.txt"
cp package/LICENSE "$DEST/swagger-ui-LICENSE"
cp package/NOTICE "$DEST/swagger-ui-NOTICE"
echo "$VERSION" >"$DEST/swagger-ui-VERSION"
echo "swagger-ui-dist $VERSION vendored into $DEST"
