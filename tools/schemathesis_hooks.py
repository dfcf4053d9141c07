"""Schemathesis hooks for q2c's fuzzing run (loaded through SCHEMATHESIS_HOOKS by tools/test.sh).

An Idempotency-Key makes the server replay the first response for that key and refuse the key
with another body (422). The fuzzer treats every generated request as independent and draws
keys from a small space, so two unrelated requests would share a key and be judged "valid data
rejected". Each request that carries a key therefore gets a fresh one; replay and reuse are
tested by the black-box suite (tests/api/concurrency.rs).

A hub subscription's callback must be on the deployment's allow-list and its query must follow
the delivery grammar; no JSON schema can say either, so schema-valid strings are refused (400).
Positive cases of a hub POST therefore get an allowed callback (a loopback listener, allowed
by q2c local) and a valid query; the refusals are tested in shared/api/src/tests/hub_tests.rs.

A quote holds at most `maxQuoteItems` items counted across every nesting level, nested at most
`maxItemNesting` deep (docs/limits.md). The document's `maxItems` bounds each array alone, and
no JSON schema can bound a sum over nested arrays, so a schema-valid body can still exceed the
total (400 LIMIT_EXCEEDED). Positive quote POSTs and PATCHes are therefore trimmed to the
limits; the refusals are tested by the hostile suite (tests/api/hostile.rs) and shared/api's
unit tests.

Against the official TMF648 documents (tools/test.sh sets Q2C_SCHEMATHESIS_OFFICIAL=1 for those
runs), the statuses HTTP requires but the v4 swagger omits are added, in memory, to every
operation that documents neither them nor a `default` (the file itself is checked by its
SHA-256 and never changed): 412 (`If-Match` names a version that is not current), 413 (a body
over `maxRequestBytes`), 415 (a body of another media type), 422 (a business rule or a quota
refuses a schema-valid request: an offering not in the catalog, an item id used twice, the
subscription quota) and 429 (the request-rate quota), each a TMF630 `Error` body, which the
response-schema check still validates against the document's own `Error`. The departure is
recorded in docs/versioning.md ("Departures the official documents' fuzzing leaves out").
There, too, a positive quote body's `@type` becomes `Quote`: q2c keeps a client's own `@type`
(a subclass name, TMF's extension mechanism), which the official v5 discriminator, listing only
`Quote`, cannot resolve when the quote is read back.
"""

import os
import uuid

import schemathesis


MAX_QUOTE_ITEMS = 500  # q2c_model::limits::MAX_QUOTE_ITEMS
MAX_ITEM_NESTING = 8  # q2c_model::limits::MAX_ITEM_NESTING

# The statuses HTTP requires that the official v4 document omits (see the module doc).
HTTP_REQUIRED_STATUSES = {
    "412": "Precondition Failed (If-Match)",
    "413": "Content Too Large (maxRequestBytes)",
    "415": "Unsupported Media Type",
    "422": "Unprocessable Content (business rule or quota)",
    "429": "Too Many Requests (request-rate quota)",
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Set by tools/test.sh for the runs against the official documents.
OFFICIAL = os.environ.get("Q2C_SCHEMATHESIS_OFFICIAL") == "1"


@schemathesis.hook
def before_load_schema(ctx, raw_schema):
    # Only the v4 swagger needs it: every operation of the v5 draft declares `default`.
    if not OFFICIAL or not str(raw_schema.get("swagger", "")).startswith("2."):
        return
    for item in raw_schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            if "default" in responses:
                continue
            for status, reason in HTTP_REQUIRED_STATUSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": f"{reason}: added by q2c's test run, docs/versioning.md",
                        "schema": {"$ref": "#/definitions/Error"},
                    },
                )


def _trim_items(items, budget, depth):
    """Keeps at most `budget` items of `items` and their nested items, counted depth-first, and
    no nesting below MAX_ITEM_NESTING; returns what is left of the budget."""
    kept = []
    for item in items:
        if budget <= 0:
            break
        budget -= 1
        kept.append(item)
        if isinstance(item, dict) and isinstance(item.get("quoteItem"), list):
            if depth >= MAX_ITEM_NESTING:
                del item["quoteItem"]
            else:
                budget = _trim_items(item["quoteItem"], budget, depth + 1)
    items[:] = kept
    return budget


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    if case.method.upper() == "POST" and case.path.endswith("/hub") and _positive(case):
        if isinstance(case.body, dict) and isinstance(case.body.get("callback"), str):
            case.body["callback"] = "http://127.0.0.1:9/listener"
        if isinstance(case.body, dict) and isinstance(case.body.get("query"), str):
            case.body["query"] = "eventType=QuoteStateChangeEvent"
    if (
        case.method.upper() in ("POST", "PATCH")
        and "/quote" in case.path
        and _positive(case)
        and isinstance(case.body, dict)
        and isinstance(case.body.get("quoteItem"), list)
    ):
        _trim_items(case.body["quoteItem"], MAX_QUOTE_ITEMS, 1)
    if (
        OFFICIAL
        and case.method.upper() in ("POST", "PATCH")
        and "/quote" in case.path
        and _positive(case)
        and isinstance(case.body, dict)
        and "@type" in case.body
    ):
        case.body["@type"] = "Quote"


def _positive(case):
    """Whether the case was generated as schema-valid data."""
    mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", None)
    return str(getattr(mode, "value", mode)).lower() == "positive"
