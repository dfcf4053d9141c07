-- wrk script: GET /quote/{id} of one existing quote (Q2C_BENCH_QUOTE is its path).
wrk.method = "GET"
wrk.path = os.getenv("Q2C_BENCH_QUOTE")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("Q2C_BENCH_TOKEN")

local non_200 = 0
response = function(status, headers, body)
  if status ~= 200 then non_200 = non_200 + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-200 responses: %d\n", non_200))
end
