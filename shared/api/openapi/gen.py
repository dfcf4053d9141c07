#!/usr/bin/env python3
"""Writes tmf648-v4.json: the official TMF648 v4 definitions (Swagger 2.0) converted to
OpenAPI 3.0 components, plus q2c's own paths, statuses and headers; and tmf648-v5.json: the
same quote API as v5 serves it, the v4 components changed where the TMF648 v5 draft differs
(definitions read from the draft). See README.md and docs/versioning.md."""

import copy
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
OFFICIAL = HERE.parent / "tests" / "fixtures" / "TMF648-Quote-v4.0.0.swagger.json"
OUT = HERE / "tmf648-v4.json"
# The TMF648 v5 pre-release draft, a verbatim copy.
OFFICIAL_V5 = HERE.parent / "tests" / "fixtures" / "TMF648-Quote-v5.0.0.oas.yaml"
OUT_V5 = HERE / "tmf648-v5.json"
Q5 = "/tmf-api/quoteManagement/v5"

ROOTS = ["Quote", "Quote_Create", "Quote_Update", "QuoteItem", "QuotePrice", "Price",
         "PriceAlteration", "Money", "Error", "EventSubscription", "EventSubscriptionInput"]
SERVER_OWNED = ["id", "href", "quoteDate", "quoteTotalPrice", "validFor", "authorization",
                "state", "effectiveQuoteCompletionDate"]
# ISO 4217 codes the model accepts (iso_currency 0.7 isodata.tsv): Money.unit is checked.
CURRENCIES = """
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN
BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR
MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD XAF XAG XAU XBA XBB XBC XBD XCD
XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL
""".split()
Q, C = "/tmf-api/quoteManagement/v4", "/tmf-api/productCatalogManagement/v4"
O = "/tmf-api/productOrderingManagement/v4"
P = "/tmf-api/productInventory/v4"
PRODUCT_STATUSES = ["created", "pendingActive", "cancelled", "active", "pendingTerminate", "terminated",
                    "suspended", "aborted"]
ORDER_STATES = ["acknowledged", "rejected", "pending", "held", "inProgress", "cancelled", "completed",
                "failed", "partial", "assessingCancellation", "pendingCancellation"]


def refs(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.add(value.rsplit("/", 1)[-1])
            else:
                refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def convert(node):
    """Swagger 2.0 schema -> OpenAPI 3.0 schema (only `$ref` targets differ here)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref":
                out[key] = value.replace("#/definitions/", "#/components/schemas/")
            else:
                out[key] = convert(value)
        if "$ref" in out and len(out) > 1:  # siblings of $ref are ignored in 3.0: wrap
            ref = out.pop("$ref")
            out["allOf"] = [{"$ref": ref}]
        return out
    if isinstance(node, list):
        return [convert(v) for v in node]
    return node


def schemas(definitions):
    names, pending = set(), set(ROOTS)
    while pending:
        name = pending.pop()
        names.add(name)
        found = set()
        refs(definitions[name], found)
        pending |= found - names
    out = {name: convert(copy.deepcopy(definitions[name])) for name in sorted(names)}
    # Our responses may be narrowed by `fields=`, and PATCH is a merge patch: neither
    # requires quoteItem. Quote_Create keeps the official requirement.
    out["Quote"].pop("required", None)
    out["Quote"]["description"] += " (responses may be narrowed by `fields=`)"
    out["Quote_Update"].pop("required", None)
    out["Quote_Update"]["description"] = "JSON merge patch (RFC 7396) of a Quote."
    out["Quote_Update"]["properties"]["state"] = {"$ref": "#/components/schemas/QuoteStateType"}
    for schema in ("Quote", "Quote_Create"):
        for field in SERVER_OWNED:
            prop = out[schema]["properties"].get(field)
            if prop is not None:
                prop["readOnly"] = True
    for field in SERVER_OWNED:
        prop = out["Quote_Update"]["properties"].get(field)
        if prop is not None and field != "state":
            prop["readOnly"] = True
    # The pricing engine prices an item from its catalog offering, one or more of it.
    out["QuoteItem"]["required"] = ["productOffering"]
    out["ProductOfferingRef"]["properties"]["id"]["minLength"] = 1
    out["QuoteItem"]["properties"]["quantity"].update(minimum=1, maximum=1_000_000)
    # TMF648 lists the item states in prose only; the model knows exactly these.
    out["QuoteItem"]["properties"]["state"]["enum"] = ["inProgress", "pending", "approved", "rejected"]
    out["Money"]["properties"]["unit"]["enum"] = CURRENCIES
    # Money is an amount of a currency: both parts or nothing (the model is decimal + ISO 4217).
    out["Money"]["required"] = ["unit", "value"]
    for rate in ("percentage", "taxRate"):
        out["Price"]["properties"][rate].update(minimum=0, maximum=100)
    out["Quote_Create"]["example"] = {
        "externalId": "crm-opportunity-42",
        "relatedParty": [{"id": "cust-1", "role": "customer", "@referredType": "Individual"}],
        "quoteItem": [{"action": "add", "quantity": 1, "productOffering": {"id": "fibre-1g"}},
                      {"action": "add", "quantity": 2, "productOffering": {"id": "mobile-l"}}],
    }
    # The edge enforces a callback of 1-2048 characters (routes/hub.rs).
    out["EventSubscriptionInput"]["properties"]["callback"].update(
        minLength=1, maxLength=2048,
        description="An https URL, an SQS queue ARN or URL (local mode: local:<queue>) on the deployment's "
                    "callback allow-list; private, loopback and link-local addresses are refused (400).")
    out["EventSubscriptionInput"]["properties"]["query"] = {
        **out["EventSubscriptionInput"]["properties"].get("query", {}), "type": "string", "maxLength": 1024,
        "description": "Terms joined by &: eventType=A,B and dotted-path equalities such as "
                       "event.productOfferingPrice.id=pop-1; anything else is refused (400)."}
    out["CatalogItem"] = {
        "type": "object",
        "description": "A TMF620 ProductOffering or ProductOfferingPrice (read-only catalog).",
        "required": ["id"],
        "properties": {k: {"type": "string"} for k in
                       ["id", "href", "name", "description", "lifecycleStatus", "@type"]},
    }
    # TMF622 product orders as q2c serves them (docs/architecture.md, "Product orders").
    out["ProductOrderDispatch"] = {
        "type": "object",
        "description": "q2c extension: where handing the order to order management stands.",
        "required": ["status", "attempts"],
        "properties": {"status": {"type": "string", "enum": ["pending", "dispatched", "failed"]},
                       "attempts": {"type": "integer", "minimum": 0},
                       "lastError": {"type": "string"}, "downstreamId": {"type": "string"}},
    }
    out["ProductOrder"] = {
        "type": "object",
        "description": "A TMF622 v4 ProductOrder created by accepting a quote, with q2c's dispatch extension.",
        "required": ["id"],
        "properties": {**{k: {"type": "string"} for k in ["id", "href", "externalId", "@type"]},
                       "orderDate": {"type": "string", "format": "date-time"},
                       "state": {"type": "string", "enum": ORDER_STATES},
                       "quote": {"type": "array", "items": {"type": "object"}},
                       "productOrderItem": {"type": "array", "items": {"type": "object"}},
                       "dispatch": {"$ref": "#/components/schemas/ProductOrderDispatch"}},
    }
    out["ProductOrderStateChangeEvent"] = {
        "type": "object",
        "description": "A TMF622 ProductOrderStateChangeEvent from order management. The order is found by "
                       "event.productOrder.externalId (q2c's id), else by its id.",
        "required": ["eventType", "event"],
        "properties": {
            "eventId": {"type": "string"}, "eventTime": {"type": "string", "format": "date-time"},
            "eventType": {"type": "string", "enum": ["ProductOrderStateChangeEvent"]},
            "event": {"type": "object", "required": ["productOrder"], "properties": {"productOrder": {
                "type": "object", "required": ["state"],
                "anyOf": [{"required": ["externalId"]}, {"required": ["id"]}],
                "properties": {"id": {"type": "string", "minLength": 1},
                               "externalId": {"type": "string", "minLength": 1},
                               "state": {"type": "string", "enum": ORDER_STATES}}}}},
        },
    }
    # TMF637 products as q2c serves them (docs/billing.md): the fields q2c writes, others kept.
    out["Product"] = {
        "type": "object",
        "description": "A TMF637 v4 Product the customer holds, created by the completion of its order, at the "
                       "quoted prices (productPrice carries the quote item's prices and alterations).",
        "required": ["id"],
        "properties": {**{k: {"type": "string"} for k in ["id", "href", "name", "description", "@type"]},
                       "isBundle": {"type": "boolean"},
                       **{k: {"type": "string", "format": "date-time"}
                          for k in ["orderDate", "startDate", "terminationDate"]},
                       "status": {"type": "string", "enum": PRODUCT_STATUSES},
                       **{k: {"type": "object"} for k in ["billingAccount", "productOffering", "productSpecification"]},
                       **{k: {"type": "array", "items": {"type": "object"}}
                          for k in ["productCharacteristic", "productOrderItem", "productPrice",
                                    "productRelationship", "relatedParty"]}},
    }
    out["Health"] = {"type": "object", "required": ["status"],
                     "properties": {"status": {"type": "string", "enum": ["ok"]}}}
    return out


def header(description, schema=None):
    return {"description": description, "schema": schema or {"type": "string"}}


CORRELATION = {"X-Correlation-Id": header("The request's correlation id (echoed or generated).")}


def error(description, retry_after=False):
    headers = dict(CORRELATION)
    if retry_after:
        headers["Retry-After"] = header("Seconds to wait before retrying.", {"type": "integer", "minimum": 1})
    return {"description": description, "headers": headers,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


ERRORS = {
    "400": "Malformed JSON, invalid input, forbidden field, invalid query parameter or header",
    "401": "Missing or invalid bearer token",
    "403": "The token lacks the scope this operation needs",
    "404": "No such resource for this tenant",
    "409": "Conflict with the current state, or the Idempotency-Key is still in progress",
    "412": "If-Match names a version that is no longer current",
    "413": "Request body over the limit (1 MiB)",
    "415": "Unsupported Content-Type",
    "422": "A business rule refused the request, the Idempotency-Key was reused, or a count quota of the tenant is reached",
    "429": "The tenant's request rate is over its quota; retry after the Retry-After header's seconds",
    "500": "Internal error",
    "503": "The store is unavailable, or concurrent writers kept the quote changing; retry later",
}


def responses(ok_status, ok, *errors):
    out = {ok_status: ok}
    for status in ("400", "429", "500", "503") + errors:
        out[status] = {"$ref": f"#/components/responses/E{status}"}
    return dict(sorted(out.items()))


def ok(description, schema=None, headers=(), array=False):
    body = {"description": description,
            "headers": {**CORRELATION, **{h: {"$ref": f"#/components/headers/{h}"} for h in headers}}}
    if schema:
        s = {"$ref": f"#/components/schemas/{schema}"}
        body["content"] = {"application/json": {"schema": {"type": "array", "items": s} if array else s}}
    return body


def param(name):
    return {"$ref": f"#/components/parameters/{name}"}


def query(name, description, schema):
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


FIELD = "[A-Za-z@][A-Za-z0-9@_.-]*"
FIELD_LIST = f"^{FIELD}(,{FIELD})*$"

# A text filter as q2c_model::filter takes it: at most 20 comma-separated values
# (maxFilterValues) of at most 256 characters each (maxIdLength); the whole within what 20 such
# values and their commas make.
FILTER_TEXT = {"type": "string", "maxLength": 256, "pattern": "^[^,]{0,256}(,[^,]{0,256}){0,19}$"}

PARAMETERS = {
    "offset": query("offset", "Items to skip.", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}),
    "limit": query("limit", "Page size (default 50).", {"type": "integer", "minimum": 1, "maximum": 1000}),
    "fields": query("fields", "Comma-separated top-level attributes to return (id, href and @type always are).",
                    {"type": "string", "pattern": FIELD_LIST}),
    "state": query("state", "Quote state filter.", {"$ref": "#/components/schemas/QuoteStateType"}),
    "relatedParty.id": query("relatedParty.id", "Related party id filter.", FILTER_TEXT),
    "externalId": query("externalId", "External id filter.", FILTER_TEXT),
    "billingAccount.id": query("billingAccount.id", "Billing account id filter (products).", {"type": "string"}),
    "productOffering.id": query("productOffering.id", "Product offering id filter (products).", {"type": "string"}),
    "productStatus": query("status", "Product status filter.", {"type": "string", "enum": PRODUCT_STATUSES}),
    "quoteDate.gte": query("quoteDate.gte", "quoteDate on or after (RFC 3339).", {"type": "string", "format": "date-time"}),
    "quoteDate.lt": query("quoteDate.lt", "quoteDate before (RFC 3339).", {"type": "string", "format": "date-time"}),
    "id": {"name": "id", "in": "path", "required": True, "description": "Identifier of the resource",
           "schema": {"type": "string"}},
    "If-Match": {"name": "If-Match", "in": "header", "required": False,
                 "description": "ETag of the version the change is based on: \"<version>\" (W/ tolerated) or *.",
                 "schema": {"type": "string", "pattern": "^(\\*|(W/)?\"[0-9]{1,19}\"|[0-9]{1,19})$"}},
    "Idempotency-Key": {"name": "Idempotency-Key", "in": "header", "required": False,
                        "description": "Makes the POST safe to retry: the first response is replayed for 24 h.",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}},
}

HEADERS = {
    "X-Total-Count": header("Items matching the query.", {"type": "integer"}),
    "X-Result-Count": header("Items in this page.", {"type": "integer"}),
    "ETag": header("Version of the quote: \"<version>\"."),
    "Location": header("URL of the created resource."),
    "Idempotent-Replayed": header("`true` on a replayed response.", {"type": "string", "enum": ["true"]}),
}


def body(schema, *types):
    content = {t: {"schema": {"$ref": f"#/components/schemas/{schema}"}} for t in types}
    return {"required": True, "content": content}


# Every operation but /health and the documents needs a bearer token.
SECURED = {"security": [{"bearerAuth": []}]}


def hub_paths(base, listener, register, unregister):
    """`POST {base}/hub` (register{listener}) and `DELETE {base}/hub/{id}` (unregister{listener}):
    every hub is served alike (routes/hub.rs)."""
    return {
        f"{base}/hub": {"post": {**SECURED, "operationId": f"register{listener}", "tags": ["events subscription"],
                                 "summary": f"{register} (scope hub.write)",
                                 "parameters": [param("Idempotency-Key")],
                                 "requestBody": body("EventSubscriptionInput", "application/json"),
                                 "responses": responses("201", ok("Subscribed", "EventSubscription", ["Location", "Idempotent-Replayed"]),
                                                        "401", "403", "409", "413", "415", "422")}},
        f"{base}/hub/{{id}}": {"delete": {**SECURED, "operationId": f"unregister{listener}", "tags": ["events subscription"],
                                          "summary": f"{unregister} (scope hub.write)", "parameters": [param("id")],
                                          "responses": responses("204", ok("Unsubscribed"), "401", "403", "404")}},
    }


# What each listing filters on (TMF630 Part 1), as q2c_model::filter declares it: (name, ordered)
# where ordered attributes (dates, numbers) also take .gt/.gte/.lt/.lte. A q2c-api test keeps
# these lists equal to the model's tables.
QUOTE_FILTERS = ["id", "externalId", "category", "version", "instantSyncQuote",
                 "requestedQuoteCompletionDate*", "expectedQuoteCompletionDate*",
                 "effectiveQuoteCompletionDate*", "expectedFulfillmentStartDate*",
                 "validFor.startDateTime*", "validFor.endDateTime*", "relatedParty.id", "relatedParty.role",
                 "billingAccount.id", "quoteItem.id", "quoteItem.action", "quoteItem.quantity*",
                 "quoteItem.productOffering.id", "quoteTotalPrice.priceType", "productOrder.id", "state",
                 "quoteDate*", "quoteItem.state"]
QUOTE_V5_FILTERS = [("creationDate*" if f == "quoteDate*" else f) for f in QUOTE_FILTERS] + ["@type"]
FILTERS = {
    "listQuote": QUOTE_FILTERS,
    "listProductOrder": ["id", "externalId", "category", "state", "orderDate*", "completionDate*", "quote.id",
                         "relatedParty.id", "relatedParty.role", "billingAccount.id", "productOrderItem.id",
                         "productOrderItem.action", "productOrderItem.state",
                         "productOrderItem.productOffering.id"],
    "listProductOffering": ["id", "name", "version", "lifecycleStatus", "isBundle", "isSellable", "lastUpdate*",
                            "validFor.startDateTime*", "validFor.endDateTime*", "productOfferingPrice.id",
                            "bundledProductOffering.id", "productSpecification.id"],
    "listProductOfferingPrice": ["id", "name", "version", "lifecycleStatus", "priceType", "isBundle", "lastUpdate*",
                                 "recurringChargePeriodType", "recurringChargePeriodLength*", "percentage*",
                                 "price.unit", "price.value*", "validFor.startDateTime*", "validFor.endDateTime*"],
}


def filtering(names, indexed=()):
    """The description of a listing's TMF630 filters and paging."""
    listed = ", ".join(f"`{n.rstrip('*')}`" + (" (ordered)" if n.endswith("*") else "") for n in names)
    served = (f" Served by an index (offset pages with X-Total-Count): {', '.join(indexed)}." if indexed else
              " None is served by an index.")
    return ("Filters (TMF630 Part 1): " + listed + ". `attr=a,b` is a OR b; `attr.ne=` / `attr!=`; ordered "
            "attributes (dates, numbers) also take `.gt .gte .lt .lte .eq` and `>=`, `<=`, `>`, `<`; dotted paths "
            "match any element of an array; clauses combine with AND; at most 10 filters of 20 values; an "
            "unknown attribute or operator is a 400." + served + " Any other filter, or a `cursor=`, answers a "
            "cursor page: at most 1,000 stored resources read, the matches among them (possibly fewer than "
            "`limit`), no X-Total-Count. Every page that is not the last has `Link: <...&cursor=...>; "
            "rel=\"next\"` (docs/versioning.md).")


def paths():
    listing = [param("offset"), param("limit"), param("fields")]
    filters = [param(n) for n in ("state", "relatedParty.id", "externalId", "quoteDate.gte", "quoteDate.lt")]
    secured = SECURED
    catalog = {}
    for kind in ("productOffering", "productOfferingPrice"):
        op = f"list{kind[0].upper()}{kind[1:]}"
        catalog[f"{C}/{kind}"] = {"get": {
            **secured, "operationId": op, "tags": ["catalog"],
            "summary": f"List {kind} (scope catalog.read)", "description": filtering(FILTERS[op]),
            "parameters": listing,
            "responses": responses("200", ok("A page", "CatalogItem", ["X-Total-Count", "X-Result-Count"], True),
                                   "401", "403")}}
        catalog[f"{C}/{kind}/{{id}}"] = {"get": {
            **secured, "operationId": f"retrieve{kind[0].upper()}{kind[1:]}", "tags": ["catalog"],
            "summary": f"Retrieve a {kind} (scope catalog.read)", "parameters": [param("id"), param("fields")],
            "responses": responses("200", ok("The item", "CatalogItem"), "401", "403", "404")}}
    return {
        "/health": {"get": {"operationId": "health", "tags": ["ops"], "summary": "Liveness (no auth)",
                            "responses": {"200": ok("Up", "Health")}}},
        f"{Q}/openapi.json": {"get": {"operationId": "openapi", "tags": ["ops"], "summary": "This document (no auth)",
                                      "responses": {"200": {"description": "OpenAPI 3.0 document", "headers": CORRELATION,
                                                            "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        f"{Q}/quote": {
            "get": {**secured, "operationId": "listQuote", "tags": ["quote"], "summary": "List quotes (scope quote.read)",
                    "description": filtering(QUOTE_FILTERS, ["one state", "relatedParty.id", "externalId",
                                                             "quoteDate.gte", "quoteDate.lt"]),
                    "parameters": listing + filters,
                    "responses": responses("200", ok("A page of quotes", "Quote", ["X-Total-Count", "X-Result-Count"], True),
                                           "401", "403")},
            "post": {**secured, "operationId": "createQuote", "tags": ["quote"], "summary": "Create a quote (scope quote.write)",
                     "parameters": [param("Idempotency-Key")], "requestBody": body("Quote_Create", "application/json"),
                     "responses": {**responses("201", ok("Created", "Quote", ["Location", "ETag", "Idempotent-Replayed"]),
                                                   "401", "403", "404", "409", "413", "415", "422"),
                                   # Quote_Create.instantSyncQuote: true is answered 200 (docs/versioning.md).
                                   "200": ok("Created and quoted at once (instantSyncQuote: true)", "Quote",
                                             ["Location", "ETag", "Idempotent-Replayed"])}},
        },
        f"{Q}/quote/{{id}}": {
            "get": {**secured, "operationId": "retrieveQuote", "tags": ["quote"], "summary": "Retrieve a quote (scope quote.read)",
                    "parameters": [param("id"), param("fields")],
                    "responses": responses("200", ok("The quote", "Quote", ["ETag"]), "401", "403", "404")},
            "patch": {**secured, "operationId": "patchQuote", "tags": ["quote"],
                      "summary": "Merge-patch a quote (scope quote.write; approval needs quote.approve)",
                      "parameters": [param("id"), param("If-Match")],
                      "requestBody": body("Quote_Update", "application/merge-patch+json", "application/json"),
                      "responses": responses("200", ok("The updated quote", "Quote", ["ETag"]),
                                             "401", "403", "404", "409", "412", "413", "415", "422")},
            "delete": {**secured, "operationId": "deleteQuote", "tags": ["quote"], "summary": "Delete a quote (scope quote.write)",
                       "parameters": [param("id"), param("If-Match")],
                       "responses": responses("204", ok("Deleted"), "401", "403", "404", "409", "412")},
        },
        **hub_paths(Q, "Listener", "Register a listener", "Unregister a listener"),
        **hub_paths(C, "CatalogListener", "Register a listener of catalog (price) events",
                    "Unregister a catalog listener"),
        **catalog,
        f"{O}/productOrder": {"get": {
            **secured, "operationId": "listProductOrder", "tags": ["product order"],
            "summary": "List product orders, newest first (scope order.read)",
            "description": filtering(FILTERS["listProductOrder"]), "parameters": listing,
            "responses": responses("200", ok("A page of orders", "ProductOrder", ["X-Total-Count", "X-Result-Count"], True),
                                   "401", "403")}},
        f"{O}/productOrder/{{id}}": {"get": {
            **secured, "operationId": "retrieveProductOrder", "tags": ["product order"],
            "summary": "Retrieve a product order (scope order.read)", "parameters": [param("id"), param("fields")],
            "responses": responses("200", ok("The order", "ProductOrder"), "401", "403", "404")}},
        f"{O}/listener/productOrderStateChangeEvent": {"post": {
            **secured, "operationId": "listenToProductOrderStateChangeEvent", "tags": ["notification listener"],
            "summary": "Order management reports an order state (scope order.write)",
            "description": "The first answer to an eventId (or Idempotency-Key) is replayed to redeliveries for 24 h.",
            "parameters": [param("Idempotency-Key")],
            "requestBody": body("ProductOrderStateChangeEvent", "application/json"),
            "responses": responses("201", ok("Notified", headers=["Idempotent-Replayed"]),
                                   "401", "403", "404", "409", "413", "415", "422")}},
        f"{P}/product": {"get": {
            **secured, "operationId": "listProduct", "tags": ["product inventory"],
            "summary": "List products, newest startDate first (scope inventory.read)",
            "description": "billingAccount.id or relatedParty.id is required (400 INVALID_INPUT without): products "
                           "are indexed per billing account and per owner party (the relatedParty with role "
                           "customer, else the first), never tenant-wide.",
            "parameters": listing + [param(n) for n in ("billingAccount.id", "relatedParty.id", "productStatus",
                                                         "productOffering.id")],
            "responses": responses("200", ok("A page of products", "Product", ["X-Total-Count", "X-Result-Count"], True),
                                   "401", "403")}},
        f"{P}/product/{{id}}": {"get": {
            **secured, "operationId": "retrieveProduct", "tags": ["product inventory"],
            "summary": "Retrieve a product (scope inventory.read)", "parameters": [param("id"), param("fields")],
            "responses": responses("200", ok("The product", "Product"), "401", "403", "404")}},
        **hub_paths(O, "OrderingListener", "Register a listener of product order events",
                    "Unregister a listener of product order events"),
    }


# Numbers the model holds exactly: decimals of up to 15 significant digits, integers of i64.
NUMBER_BOUND = 10**15
INTEGER_BOUND = 2**53 - 1


def bound_numbers(node):
    """Gives every unbounded number and integer the range q2c represents exactly."""
    if isinstance(node, dict):
        if node.get("type") == "number":
            node.setdefault("minimum", -NUMBER_BOUND)
            node.setdefault("maximum", NUMBER_BOUND)
        elif node.get("type") == "integer":
            node.setdefault("minimum", -INTEGER_BOUND)
            node.setdefault("maximum", INTEGER_BOUND)
        for value in node.values():
            bound_numbers(value)
    elif isinstance(node, list):
        for value in node:
            bound_numbers(value)


# The request limits of q2c_model::limits (docs/limits.md), stated where JSON Schema can:
# maxLength of every string by its name, maxItems of every array by its name. The server
# enforces the same numbers (400 LIMIT_EXCEEDED); depth, nesting and totals across nested
# items, which no schema states, are in docs/limits.md.
MAX_ID_LENGTH, MAX_TEXT_LENGTH, MAX_STRING_LENGTH = 256, 10_000, 2_048
MAX_ITEMS_BY_NAME = {"quoteItem": 500, "quoteItemPrice": 50, "priceAlteration": 20}
MAX_ARRAY_ITEMS = 100
# Response-only schemas the limits do not describe.
UNLIMITED = {"Error", "CatalogItem", "ProductOrder", "ProductOrderDispatch", "Product", "Health"}


def string_limit(name):
    if name == "id":
        return MAX_ID_LENGTH
    if name in ("description", "text"):
        return MAX_TEXT_LENGTH
    return MAX_STRING_LENGTH


def bound_limits(node, name=""):
    """Gives every string property its maxLength and every array its maxItems."""
    if isinstance(node, dict):
        if node.get("type") == "string" and "enum" not in node:
            node.setdefault("maxLength", string_limit(name))
        if node.get("type") == "array":
            node.setdefault("maxItems", MAX_ITEMS_BY_NAME.get(name, MAX_ARRAY_ITEMS))
            bound_limits(node.get("items"), name)
        for key, value in node.get("properties", {}).items():
            bound_limits(value, key)
        for key in ("allOf", "anyOf", "oneOf"):
            for value in node.get(key, []):
                bound_limits(value, name)
    elif isinstance(node, list):
        for value in node:
            bound_limits(value, name)


def bound_schemas(schemas_doc):
    for schema_name, schema in schemas_doc.items():
        if schema_name not in UNLIMITED:
            bound_limits(schema)


def link_created(paths_doc, path, method, targets):
    """Links a 201 to the operations on the created resource, so stateful fuzzing can follow them."""
    created = paths_doc[path][method]["responses"]["201"]
    created["links"] = {op[0].upper() + op[1:]: {"operationId": op, "parameters": {"id": "$response.body#/id"}}
                        for op in targets}


def v5_schemas(v4_schemas, draft):
    """The v4 components, changed where TMF648 v5 differs (docs/versioning.md)."""
    out = copy.deepcopy(v4_schemas)
    spec = draft["components"]["schemas"]
    for name in ("ProductOrder", "ProductOrderDispatch", "ProductOrderStateChangeEvent", "CatalogItem", "Health"):
        out.pop(name, None)
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}
    out["ItemActionType"] = {k: v for k, v in spec["ItemActionType"].items()}
    out["QuoteStateType"] = {**spec["QuoteStateType"],
                             "description": "Quote states of TMF648 v5. q2c reads `declined` back as `declined` "
                                            "(a cancelled quote the provider declined) and passes `acknowledged` "
                                            "while creating a quote (docs/versioning.md)."}
    # A client asks for any state but acknowledged (the server's own).
    out["QuoteStateType_Request"] = {"type": "string", "description": "A state a client may ask for.",
                                     "enum": [e for e in spec["QuoteStateType"]["enum"] if e != "acknowledged"]}
    identifier = spec["ExternalIdentifier"]["allOf"][1]
    out["ExternalIdentifier"] = {
        "type": "object", "description": identifier["description"], "required": ["id"],
        "properties": {**{k: dict(v) for k, v in identifier["properties"].items()},
                       **{k: {"type": "string"} for k in ("@type", "@baseType")},
                       "@schemaLocation": {"type": "string", "format": "uri"}}}
    out["ExternalIdentifier"]["properties"]["id"]["minLength"] = 1
    for item in ("QuoteItem",):
        props = out[item]["properties"]
        props["action"] = {"allOf": [ref("ItemActionType")], "description": props["action"].get("description", "")}
    quote_item_ref = ref("QuoteItem")
    for name, v4_name in (("Quote", "Quote"), ("Quote_FVO", "Quote_Create"), ("Quote_MVO", "Quote_Update")):
        schema = copy.deepcopy(out[v4_name]) if name != v4_name else out[name]
        props = schema["properties"]
        date = props.pop("quoteDate", None)
        if date is not None:
            props["creationDate"] = {**date, "description": "When the quote was created (server-owned)."}
        props["externalId"] = {"type": "array", "items": ref("ExternalIdentifier"),
                               "description": "Identifiers of the quote in other systems, most recent system first; "
                                              "q2c's `externalId` filter matches the first one's id."}
        props["state"] = ref("QuoteStateType_Request" if name == "Quote_MVO" else "QuoteStateType")
        if name == "Quote_FVO":
            state = props["state"]
            props["state"] = {"allOf": [state], "readOnly": True}
        props["instantSyncQuote"] = {"type": "boolean",
                                     "description": "Asks for the quoting result in the response: q2c always "
                                                    "prices synchronously; true is answered 200, otherwise 201, "
                                                    "each with the priced quote."}
        if "quoteItem" in props and name != "Quote_MVO":
            props["quoteItem"]["items"] = quote_item_ref
        out[name] = schema
    for v4_name in ("Quote_Create", "Quote_Update"):
        out.pop(v4_name)
    out["Quote_FVO"]["required"] = ["@type", "quoteItem", "instantSyncQuote"]
    out["Quote_FVO"]["properties"]["@type"] = {"type": "string", "minLength": 1,
                                               "description": "The class of the quote, e.g. Quote (required by Quote_FVO)."}
    out["Quote_FVO"]["description"] = "A Quote to create (TMF648 v5 Quote_FVO)."
    out["Quote_FVO"].pop("example", None)
    out["Quote_FVO"]["example"] = {
        "@type": "Quote", "instantSyncQuote": True,
        "externalId": [{"id": "crm-opportunity-42", "owner": "CRM", "externalIdentifierType": "Opportunity"}],
        "relatedParty": [{"id": "cust-1", "role": "customer", "@referredType": "Individual"}],
        "quoteItem": [{"action": "add", "quantity": 1, "productOffering": {"id": "fibre-1g"}}],
    }
    out["Quote_MVO"]["description"] = "A JSON merge patch (RFC 7396) of a Quote, in v5 names (TMF648 v5 Quote_MVO)."
    # RFC 6902 operations. The draft's JsonPatch describes one operation with an object `value`;
    # RFC 6902 (and the TMF630 v5 guidelines) send an array of operations with any value.
    pointer = {"type": "string", "pattern": "^(/([^~/]|~[01])*)*$", "description": "A JSON Pointer (RFC 6901)."}
    op = lambda ops, *required: {"type": "object", "required": ["op", "path", *required],
                                 "properties": {"op": {"type": "string", "enum": ops}, "path": pointer,
                                                **({"value": {}} if "value" in required else {}),
                                                **({"from": pointer} if "from" in required else {})}}
    out["JsonPatchOperation"] = {"description": spec["JsonPatch"]["description"] + ": one operation.",
                                 "oneOf": [op(["add", "replace", "test"], "value"), op(["remove"]),
                                           op(["move", "copy"], "from")]}
    out["JsonPatch"] = {"type": "array", "items": ref("JsonPatchOperation"),
                        "description": "A JSON Patch document (RFC 6902), applied atomically to the v5 representation "
                                       "of the quote: a failing `test` changes nothing (409)."}
    out["Hub_FVO"] = copy.deepcopy(out.pop("EventSubscriptionInput"))
    out["Hub_FVO"]["properties"].update({"@type": {"type": "string"}, "@baseType": {"type": "string"}})
    hub = out.pop("EventSubscription")
    out["Hub"] = {**hub, "description": "A subscription (TMF648 v5 Hub).",
                  "required": ["id", "href", "callback", "@type"],
                  "properties": {**hub["properties"], "href": {"type": "string"},
                                 "@type": {"type": "string", "enum": ["Hub"]}}}
    # v5's Error builds on Extensible, which requires @type: every v5 error body has "@type": "Error".
    out["Error"] = {**out["Error"], "required": ["code", "reason", "@type"]}
    out["Error"]["properties"] = {**out["Error"]["properties"], "@type": {"type": "string", "enum": ["Error"]}}
    return out


def v5_paths(v4_paths):
    """The quote API of v4's paths under the v5 base, with v5 bodies and JSON Patch."""
    out = {}
    for path, item in v4_paths.items():
        if not path.startswith(Q + "/"):
            continue
        item = copy.deepcopy(item)
        new_path = Q5 + path[len(Q):]
        for operation in item.values():
            operation["operationId"] = operation["operationId"]
            text = json.dumps(operation)
            text = (text.replace("#/components/schemas/Quote_Create", "#/components/schemas/Quote_FVO")
                        .replace("#/components/schemas/Quote_Update", "#/components/schemas/Quote_MVO")
                        .replace("#/components/schemas/EventSubscriptionInput", "#/components/schemas/Hub_FVO")
                        .replace("#/components/schemas/EventSubscription\"", "#/components/schemas/Hub\"")
                        .replace("#/components/parameters/quoteDate.", "#/components/parameters/creationDate."))
            operation.clear()
            operation.update(json.loads(text))
        out[new_path] = item
    out[f"{Q5}/quote"]["get"]["description"] = filtering(
        QUOTE_V5_FILTERS, ["one state but cancelled and declined", "relatedParty.id", "externalId",
                           "creationDate.gte", "creationDate.lt"])
    quote = out[f"{Q5}/quote/{{id}}"]["patch"]
    quote["summary"] = ("Patch a quote: JSON merge patch or JSON Patch (scope quote.write; approval needs "
                        "quote.approve)")
    quote["requestBody"]["content"]["application/json-patch+json"] = {"schema": {"$ref": "#/components/schemas/JsonPatch"}}
    quote["responses"]["409"] = {"$ref": "#/components/responses/E409"}
    return out


def write_v5(v4_doc, components_schemas):
    import yaml  # PyYAML: only the v5 document needs it
    draft = yaml.safe_load(OFFICIAL_V5.read_text())
    paths_doc = v5_paths(v4_doc["paths"])
    schemas_v5 = v5_schemas(components_schemas, draft)
    bound_numbers(schemas_v5)
    bound_schemas(schemas_v5)
    parameters = copy.deepcopy(PARAMETERS)
    for bound, word in (("gte", "on or after"), ("lt", "before")):
        old = parameters.pop(f"quoteDate.{bound}")
        parameters[f"creationDate.{bound}"] = {**old, "name": f"creationDate.{bound}",
                                               "description": f"creationDate {word} (RFC 3339)."}
    parameters["state"] = query("state", "Quote state filter (declined lists the cancelled quotes).",
                                {"$ref": "#/components/schemas/QuoteStateType_Request"})
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "q2c Quote Management (TMF648 v5)",
                 "version": "5.0.0-q2c",
                 "description": "TMF648 v5 (from the 2022 pre-release draft) as q2c serves it, beside v4 and over the "
                                "same quotes. Errors are TMF630 bodies; see docs/errors.md. Mapping choices: "
                                "docs/versioning.md. Unknown query parameters are rejected with 400."},
        "servers": [{"url": "/"}],
        "tags": [{"name": n} for n in ("quote", "events subscription", "ops")],
        "paths": paths_doc,
        "components": {**copy.deepcopy(v4_doc["components"]), "parameters": parameters, "schemas": schemas_v5},
    }
    OUT_V5.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def main():
    official = json.loads(OFFICIAL.read_text())
    paths_doc = paths()
    components_schemas = schemas(official["definitions"])
    bound_numbers(components_schemas)
    bound_schemas(components_schemas)
    link_created(paths_doc, f"{Q}/quote", "post", ["retrieveQuote", "patchQuote", "deleteQuote"])
    link_created(paths_doc, f"{Q}/hub", "post", ["unregisterListener"])
    link_created(paths_doc, f"{O}/hub", "post", ["unregisterOrderingListener"])
    link_created(paths_doc, f"{C}/hub", "post", ["unregisterCatalogListener"])
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "q2c Quote Management (TMF648 v4), read-only catalog (TMF620 v4), product orders (TMF622 v4) "
                          "and product inventory (TMF637 v4)",
                 "version": "4.0.0-q2c",
                 "description": "A superset of the official TMF648 v4 API as q2c serves it. Errors are TMF630 bodies; "
                                "see docs/errors.md. Unknown query parameters are rejected with 400."},
        "servers": [{"url": "/"}],
        "tags": [{"name": n} for n in ("quote", "events subscription", "catalog", "product order", "product inventory",
                                        "notification listener", "ops")],
        "paths": paths_doc,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "responses": {f"E{s}": error(d, s == "429") for s, d in ERRORS.items()},
            "schemas": components_schemas,
        },
    }
    OUT.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    write_v5(doc, components_schemas)


if __name__ == "__main__":
    main()
