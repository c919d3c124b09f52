-- wrk script: registers a new version per request under SUBJECT. Each version adds one more optional field
-- (with a default) to the record, so it stays compatible under every level, FULL_TRANSITIVE included.
local counter = 0
local thread_id = 0
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  thread_id = id
end

local function schema(n)
  local fields = { '{\\"name\\": \\"id\\", \\"type\\": \\"long\\"}' }
  fields[#fields + 1] = string.format(
    '{\\"name\\": \\"f_%d_%d\\", \\"type\\": [\\"null\\", \\"string\\"], \\"default\\": null}', thread_id, n)
  return '{\\"type\\": \\"record\\", \\"name\\": \\"Bench\\", \\"fields\\": [' .. table.concat(fields, ", ") .. ']}'
end

request = function()
  counter = counter + 1
  local body = '{"schema": "' .. schema(counter) .. '"}'
  return wrk.format("POST", "/subjects/" .. os.getenv("SUBJECT") .. "/versions",
    { ["Content-Type"] = "application/vnd.schemaregistry.v1+json" }, body)
end
