-- wrk script: POST /quote with a two-item quote from the sample catalog (expects 201).
-- Q2C_BENCH_TOKEN is the bearer token. Counting: counters.lua (per thread, read in done()).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "counters.lua").install(201)

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("Q2C_BENCH_TOKEN") or "")
wrk.body = '{"relatedParty":[{"id":"cust-1","role":"customer","@referredType":"Individual"}],'
  .. '"quoteItem":[{"action":"add","quantity":1,"productOffering":{"id":"fibre-1g"}},'
  .. '{"action":"add","quantity":2,"productOffering":{"id":"mobile-l"}}]}'
