-- wrk script for scripts/soak: requests cycle through a valid token
-- (VALID_FILE), an expired one (EXPIRED_FILE), a forged one (a valid token
-- with a tampered signature) and none; counts answers by status.
local function load(path)
  local t = {}
  for line in io.lines(path) do
    if #line > 0 then t[#t + 1] = line end
  end
  return t
end
local valid = load(os.getenv("VALID_FILE"))
local expired = load(os.getenv("EXPIRED_FILE"))
local path = os.getenv("TARGET_PATH") or "/pets"
local n = 0

local function forge(token)
  local i = #token - 5
  local c = token:sub(i, i) == "A" and "B" or "A"
  return token:sub(1, i - 1) .. c .. token:sub(i + 1)
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  c200, c401, other = 0, 0, 0
end

function request()
  n = n + 1
  local k = n % 4
  local i = (n % #valid) + 1
  if k == 0 then
    return wrk.format("GET", path, { ["Authorization"] = valid[i] })
  elseif k == 1 then
    return wrk.format("GET", path, { ["Authorization"] = expired[(n % #expired) + 1] })
  elseif k == 2 then
    return wrk.format("GET", path, { ["Authorization"] = forge(valid[i]) })
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status == 200 then
    c200 = c200 + 1
  elseif status == 401 then
    c401 = c401 + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, b, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("c200")
    b = b + t:get("c401")
    o = o + t:get("other")
  end
  io.write(string.format("statuses: 200=%d 401=%d other=%d\n", a, b, o))
end
