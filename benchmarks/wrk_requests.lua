-- wrk script of benchmarks/bench_http.py: every request names another participant or
-- vacancy, read from a plan file of "path<TAB>token" lines (WRK_PLAN); each thread
-- walks its own stride of the plan. Counts statuses per thread and prints one JSON line.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths, tokens = {}, {}
  for line in io.lines(os.getenv("WRK_PLAN")) do
    local path, token = line:match("^([^\t]+)\t(.+)$")
    if path then
      table.insert(paths, path)
      table.insert(tokens, token)
    end
  end
  stride = tonumber(os.getenv("WRK_THREADS") or "1")
  position = id
  statuses = {}
end

function request()
  local k = position % #paths + 1
  position = position + stride
  return wrk.format("GET", paths[k], { ["Authorization"] = "Bearer " .. tokens[k] })
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      counts[code] = (counts[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(counts) do table.insert(parts, string.format('"%s": %d', code, n)) end
  io.write(string.format(
    '{"n": %d, "wall_s": %.3f, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end
