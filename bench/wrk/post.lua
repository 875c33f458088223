-- POST the JSON body in the file named by the first argument, with the bearer token given
-- as the second: wrk -s post.lua URL -- BODY_FILE TOKEN
local body, token

function init(args)
  local file = assert(io.open(args[1], "rb"))
  body = file:read("*a")
  file:close()
  token = args[2]
end

function request()
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
