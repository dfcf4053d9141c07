#!/usr/bin/env bash
# The five-minute walkthrough (README.md shows this file as it is; a test runs it against a
# fresh `q2c local`). Start q2c in one terminal first, with order completion on:
#
#   cargo run -p q2c -- local --downstream-complete-after-ms 2000
#
# then run ./examples/walkthrough.sh in another (from the repository), or paste its commands.
# Needs curl and python3 (to read ids and print JSON).
set -euo pipefail
cd "$(dirname "$0")/.."

# `q2c` is the command line of this repository (Q2C_BIN: an already built one).
q2c() { if [ -n "${Q2C_BIN:-}" ]; then "$Q2C_BIN" "$@"; else cargo run -q -p q2c -- "$@"; fi; }
pretty() { python3 -m json.tool; }
field() {  # field '["id"]': a field of the JSON on stdin (strings as they are, the rest as JSON)
  python3 -c "import json, sys; v = json.load(sys.stdin)$1; print(v if isinstance(v, str) else json.dumps(v, indent=2))"
}

BASE=${Q2C_URL:-http://127.0.0.1:8080}                                # q2c local's --addr
ORDER_MANAGEMENT=${Q2C_ORDER_MANAGEMENT_URL:-http://127.0.0.1:8081}   # its "orders to:" line
LISTENER=${Q2C_LISTENER_ADDR:-127.0.0.1:9000}                         # where q2c listen listens
API=$BASE/tmf-api/quoteManagement/v4
TOKEN=$(q2c token --tenant demo --scopes all)   # signed with the secret of q2c local's data dir
AUTH="Authorization: Bearer $TOKEN"
JSON='Content-Type: application/json'
MERGE='Content-Type: application/merge-patch+json'

echo "== The catalog (TMF620): mobile plans, fibre with a promotion, a TV add-on, a handset, a bundle"
curl -sf -H "$AUTH" "$BASE/tmf-api/productCatalogManagement/v4/productOffering?fields=name,lifecycleStatus" | pretty

echo "== A TMF620 export to load: a new product type (@type IoTTrackerOffering) and a stale entry"
q2c catalog diff --file examples/catalog-export.json     # what an import would do; writes nothing
q2c catalog import --file examples/catalog-export.json   # stores what is new or newer, announces it

echo "== A subscriber of quote events: q2c listen prints each event it receives"
q2c listen --addr "$LISTENER" --exit-after 2 --timeout 60s &
listener=$!
trap 'kill $listener 2>/dev/null || true' EXIT
until curl -s -o /dev/null "http://$LISTENER/"; do sleep 0.2; done   # listening
curl -sf -H "$AUTH" -H "$JSON" "$API/hub" \
  -d "{\"callback\": \"http://$LISTENER/listener\", \"query\": \"eventType=QuoteStateChangeEvent\"}" | pretty

echo "== Create a quote: fibre for the home and two L mobile plans; the server prices it"
QUOTE=$(curl -sf -H "$AUTH" -H "$JSON" "$API/quote" -d '{
  "externalId": "crm-opportunity-42",
  "billingAccount": [{"id": "ba-1001"}],
  "relatedParty": [{"id": "cust-1", "role": "customer", "@referredType": "Individual"}],
  "quoteItem": [
    {"action": "add", "quantity": 1, "productOffering": {"id": "fibre-1g"}},
    {"action": "add", "quantity": 2, "productOffering": {"id": "mobile-l"}}
  ]}')
ID=$(echo "$QUOTE" | field '["id"]')
echo "$QUOTE" | field '["quoteTotalPrice"]'
echo "quote $ID"

echo "== Read some fields; change it (If-Match guards against races); a v5 JSON Patch adds a note"
curl -sf -H "$AUTH" "$API/quote/$ID?fields=state,quoteTotalPrice" | pretty
curl -sf -X PATCH -H "$AUTH" -H "$MERGE" -H 'If-Match: "1"' "$API/quote/$ID" \
  -d '{"description": "Home fibre and two mobile lines"}' | field '["description"]'
curl -sf -X PATCH -H "$AUTH" -H 'Content-Type: application/json-patch+json' \
  "$BASE/tmf-api/quoteManagement/v5/quote/$ID" \
  -d '[{"op": "test", "path": "/state", "value": "inProgress"},
       {"op": "add", "path": "/note", "value": [{"id": "1", "text": "call back"}]}]' | field '["note"]'

echo "== Approve (recorded in authorization[]), then accept: the listener prints both state changes"
curl -sf -X PATCH -H "$AUTH" -H "$MERGE" "$API/quote/$ID" -d '{"state": "approved"}' | field '["state"]'
curl -sf -X PATCH -H "$AUTH" -H "$MERGE" "$API/quote/$ID" -d '{"state": "accepted"}' | field '["state"]'
wait $listener   # q2c listen exits once it printed the two events

echo "== The accepted quote became a TMF622 order, dispatched to (the fake) order management"
ORDERS=$BASE/tmf-api/productOrderingManagement/v4/productOrder
for _ in $(seq 1 60); do   # order management reports it completed 2 s after receiving it
  state=$(curl -sf -H "$AUTH" "$ORDERS?fields=state" | field '[0].get("state")')
  [ "$state" = completed ] && break
  sleep 0.5
done
curl -sf -H "$AUTH" "$ORDERS?fields=quote,state,dispatch" | pretty
echo "order management received:"
curl -sf "$ORDER_MANAGEMENT/productOrder" | pretty

echo "== Billing heard of each product the order created (tail --once prints, then deletes them)"
q2c queue tail billing-updates --once | python3 -m json.tool --json-lines

echo "== The same products through the TMF637 API (scope inventory.read), per account or customer"
curl -sf -H "$AUTH" \
  "$BASE/tmf-api/productInventory/v4/product?billingAccount.id=ba-1001&fields=productOffering,productPrice,status" | pretty

echo "== Marketing changes a price: billing hears first, open quotes are re-priced"
q2c catalog price-change --price mobile-l-monthly --value 32.50
for _ in $(seq 1 60); do
  billing=$(q2c queue tail billing-updates --once)
  [ -n "$billing" ] && break
  sleep 0.5
done
echo "$billing" | python3 -m json.tool --json-lines
