-- wrk script of benchmarks/bench_soak.py: a mix of requests read from a plan file of
-- "kind<TAB>method<TAB>path<TAB>token<TAB>json body" lines (WRK_PLAN). One connection
-- per thread (WRK_THREADS of them); thread i sends plan rows i, i + threads, ...
-- With WRK_RATE > 0 the requests start on a fixed schedule (open loop): request n of
-- the whole run is due at WRK_START + n / WRK_RATE (CLOCK_MONOTONIC seconds). Each
-- answer's kind, status and latency (from the request's start to its answer) go to
-- WRK_OUT, one line each; the last line on stdout is a JSON summary.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } jobmatch_timespec;
int clock_gettime(int clk_id, jobmatch_timespec *tp);
]]
local clock = ffi.new("jobmatch_timespec")
local CLOCK_MONOTONIC = 1

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local threads = {}
local rate = tonumber(os.getenv("WRK_RATE") or "0")

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  kinds, requests = {}, {}
  for line in io.lines(os.getenv("WRK_PLAN")) do
    local kind, method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if kind then
      local headers = { ["Authorization"] = "Bearer " .. token }
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      table.insert(kinds, kind)
      table.insert(requests, wrk.format(method, path, headers, body))
    end
  end
  stride = tonumber(os.getenv("WRK_THREADS") or "1")
  start = tonumber(os.getenv("WRK_START") or "0")
  sent = 0
  current, started = nil, nil
  lag = 0.0
  log = {}
end

if rate > 0 then
  -- Milliseconds until the next request of this thread is due (wrk waits that long).
  function delay()
    local due = start + (sent * stride + id) / rate
    local wait = due - now()
    if wait <= 0 then
      if -wait > lag then lag = -wait end
      return 0
    end
    return math.ceil(wait * 1000)
  end
end

function request()
  local k = (sent * stride + id) % #requests + 1
  sent = sent + 1
  current = kinds[k]
  started = now()
  return requests[k]
end

function response(status, headers, body)
  log[#log + 1] = string.format("%s\t%d\t%.3f", current, status, (now() - started) * 1000)
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("WRK_OUT"), "w"))
  local largest_lag = 0.0
  for _, thread in ipairs(threads) do
    local lines = thread:get("log")
    if #lines > 0 then out:write(table.concat(lines, "\n"), "\n") end
    local thread_lag = thread:get("lag")
    if thread_lag > largest_lag then largest_lag = thread_lag end
  end
  out:close()
  io.write(string.format(
    '{"n": %d, "wall_s": %.3f, "socket_errors": %d, "largest_lag_s": %.4f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    largest_lag))
end
