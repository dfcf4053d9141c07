-- wrk script: GET /quote/{id} of one existing quote (expects 200). Q2C_BENCH_QUOTE is its
-- path, Q2C_BENCH_TOKEN the bearer token. Counting: counters.lua (per thread, read in done()).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "counters.lua").install(200)

wrk.method = "GET"
wrk.path = os.getenv("Q2C_BENCH_QUOTE") or "/"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("Q2C_BENCH_TOKEN") or "")
