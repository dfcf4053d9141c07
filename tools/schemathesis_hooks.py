"""Schemathesis hooks for q2c's fuzzing run (loaded through SCHEMATHESIS_HOOKS by tools/test.sh).

An Idempotency-Key makes the server replay the first response for that key and refuse the key
with another body (422). The fuzzer treats every generated request as independent and draws
keys from a small space, so two unrelated requests would share a key and be judged "valid data
rejected". Each request that carries a key therefore gets a fresh one; replay and reuse are
tested by the black-box suite (tests/api/concurrency.rs).
"""

import uuid

import schemathesis


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
