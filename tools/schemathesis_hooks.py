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
"""

import uuid

import schemathesis


MAX_QUOTE_ITEMS = 500  # q2c_model::limits::MAX_QUOTE_ITEMS
MAX_ITEM_NESTING = 8  # q2c_model::limits::MAX_ITEM_NESTING


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


def _positive(case):
    """Whether the case was generated as schema-valid data."""
    mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", None)
    return str(getattr(mode, "value", mode)).lower() == "positive"
