-- wrk script: POST /quote with a two-item quote from the sample catalog.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("Q2C_BENCH_TOKEN")
wrk.body = '{"relatedParty":[{"id":"cust-1","role":"customer","@referredType":"Individual"}],'
  .. '"quoteItem":[{"action":"add","quantity":1,"productOffering":{"id":"fibre-1g"}},'
  .. '{"action":"add","quantity":2,"productOffering":{"id":"mobile-l"}}]}'

local non_201 = 0
response = function(status, headers, body)
  if status ~= 201 then non_201 = non_201 + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-201 responses: %d\n", non_201))
end
