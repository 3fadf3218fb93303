-- wrk script: each request carries the next token of TOKENS_FILE (one per
-- line) in Authorization, on TARGET_PATH (default /pets).
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
local path = os.getenv("TARGET_PATH") or "/pets"
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", path, { ["Authorization"] = tokens[(n % #tokens) + 1] })
end
