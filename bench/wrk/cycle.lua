-- The mutation cycle (S5), one connection: a member invites the next guest, then that guest
-- accepts the invitation. wrk -c1 -s cycle.lua URL -- GUESTS_FILE INVITER_TOKEN OFFSET
-- GUESTS_FILE has one "organization-id token" line per guest; each guest is used once.
local guests, inviter, next_guest, current, pending = {}, nil, 0, nil, nil

local INVITE = '{"query":"mutation($g: ID!) { inviteOrganization(input: {inviteeId: $g}) '
  .. '{ invitation { id } errors { code } } }","variables":{"g":"%s"}}'
local ACCEPT = '{"query":"mutation($i: ID!) { acceptInvitation(id: $i) { errors { code } } }",'
  .. '"variables":{"i":"%s"}}'

local function post(token, body)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function init(args)
  for line in io.lines(args[1]) do
    local id, token = line:match("^(%S+) (%S+)$")
    guests[#guests + 1] = { id = id, token = token }
  end
  inviter = args[2]
  next_guest = tonumber(args[3]) or 0
end

function request()
  if pending then
    local accept = pending
    pending = nil
    return post(accept.token, string.format(ACCEPT, accept.invitation))
  end
  next_guest = next_guest + 1
  current = guests[next_guest]
  assert(current, "no guests left for the mutation cycle")
  return post(inviter, string.format(INVITE, current.id))
end

function response(status, headers, body)
  local invitation = body:match('"invitation":{"id":"([^"]+)"')
  if invitation and current then
    pending = { token = current.token, invitation = invitation }
    current = nil
  end
end
