-- wrk script: GET /v1/papers/{id}/related for every paper in turn.
-- The ids come from ids.txt (one per line), written by load.sh.
local ids = {}
for line in io.lines(os.getenv("IDS") or "ids.txt") do ids[#ids + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/papers/" .. ids[(n % #ids) + 1] .. "/related?k=10")
end
