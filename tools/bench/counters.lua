-- Response counting shared by the wrk scripts of this directory (loaded with dofile).
--
-- wrk runs response() in each thread's own Lua state and done() in the main state, so a
-- counter kept in a script-level variable and printed by done() always reads 0 (the main
-- state never sees a response). wrk's documented pattern is used instead: setup(thread) keeps
-- each thread object, response() counts in the thread's globals, and done() reads them back
-- with thread:get(). wrk's own summary (requests, socket errors, its count of statuses > 399)
-- is printed beside them so the two can be compared.
--
-- done() prints a human summary and one machine-readable line starting with "q2c-bench: "
-- (JSON), which tools/bench/pipeline.py and the test in tests/bench_scripts.rs parse.
local M = {}

local threads = {}

-- Counters of the thread state this chunk runs in (each state loads the script once). Flat:
-- wrk 4.1's thread:get() mis-copies nested tables (a segfault), so statuses are keys
-- "status_<code>" of the same table.
q2c_counts = { responses = 0, non_2xx = 0, unexpected = 0 }

local function json_number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if n == math.floor(n) and math.abs(n) < 2^53 then return string.format("%d", n) end
  return string.format("%.3f", n)
end

local function json(value)
  local kind = type(value)
  if kind == "number" then return json_number(value) end
  if kind == "string" then return string.format("%q", value) end
  if kind == "boolean" then return tostring(value) end
  if kind ~= "table" then return "null" end
  if #value > 0 then
    local items = {}
    for i, item in ipairs(value) do items[i] = json(item) end
    return "[" .. table.concat(items, ",") .. "]"
  end
  local keys = {}
  for key in pairs(value) do keys[#keys + 1] = tostring(key) end
  table.sort(keys)
  local fields = {}
  for i, key in ipairs(keys) do
    local item = value[key]
    if item == nil then item = value[tonumber(key)] end
    fields[i] = string.format("%q", key) .. ":" .. json(item)
  end
  return "{" .. table.concat(fields, ",") .. "}"
end

-- Installs setup/response/done for a script whose requests should all answer `expected`.
function M.install(expected)
  function setup(thread)
    table.insert(threads, thread)
  end

  function response(status, headers, body)
    local counts = q2c_counts
    counts.responses = counts.responses + 1
    if status < 200 or status > 299 then counts.non_2xx = counts.non_2xx + 1 end
    if status ~= expected then counts.unexpected = counts.unexpected + 1 end
    local key = "status_" .. status
    counts[key] = (counts[key] or 0) + 1
  end

  function done(summary, latency, requests)
    local total = { responses = 0, non_2xx = 0, unexpected = 0, statuses = {} }
    local per_thread = {}
    for i, thread in ipairs(threads) do
      local counts = thread:get("q2c_counts")
      local mine = { responses = counts.responses, non_2xx = counts.non_2xx,
                     unexpected_status = counts.unexpected, statuses = {} }
      for key, n in pairs(counts) do
        local status = key:match("^status_(%d+)$")
        if status then
          mine.statuses[status] = n
          total.statuses[status] = (total.statuses[status] or 0) + n
        end
      end
      per_thread[i] = mine
      total.responses = total.responses + counts.responses
      total.non_2xx = total.non_2xx + counts.non_2xx
      total.unexpected = total.unexpected + counts.unexpected
    end
    local seconds = summary.duration / 1e6
    local errors = summary.errors
    local report = {
      expected_status = expected,
      responses = total.responses,
      non_2xx = total.non_2xx,
      unexpected_status = total.unexpected,
      statuses = total.statuses,
      threads = per_thread,
      wrk = {
        requests = summary.requests,
        duration_s = seconds,
        bytes = summary.bytes,
        errors = {
          connect = errors.connect, read = errors.read, write = errors.write,
          timeout = errors.timeout, status_over_399 = errors.status,
        },
      },
      requests_per_s = summary.requests / seconds,
      latency_ms = {
        mean = latency.mean / 1000, stdev = latency.stdev / 1000, max = latency.max / 1000,
        p50 = latency:percentile(50) / 1000, p90 = latency:percentile(90) / 1000,
        p99 = latency:percentile(99) / 1000, p999 = latency:percentile(99.9) / 1000,
      },
    }
    io.write(string.format(
      "responses: %d, non-2xx: %d, not %d: %d (per thread: %s); socket errors: connect %d, read %d, write %d, timeout %d\n",
      total.responses, total.non_2xx, expected, total.unexpected,
      table.concat((function()
        local parts = {}
        for i, counts in ipairs(per_thread) do
          parts[i] = string.format("%d/%d", counts.non_2xx, counts.responses)
        end
        return parts
      end)(), " "),
      errors.connect, errors.read, errors.write, errors.timeout))
    io.write("q2c-bench: " .. json(report) .. "\n")
  end
end

return M
