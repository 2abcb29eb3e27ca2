# Schemathesis hooks for test/openapi-fuzz.e2e-spec.ts (loaded through SCHEMATHESIS_HOOKS).
# POST /v1/import takes application/x-ndjson, for which schemathesis has no serializer: its body schema is a
# string, sent as it is (anything else a negative case generates goes as JSON text, which the route must refuse).
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf8")}
    return {"data": json.dumps(value).encode("utf8")}
