"""The Lua scripts a Redis store runs: each is one atomic step, so two workers never decide the same thing twice.

Numbers cross as text formatted with ``%.17g`` (exact for doubles); ``1e999`` stands for infinity.
"""

from __future__ import annotations

INF = "1e999"

# Create jobs, each in one step: number the arrival, make its id (as `jobs.IdGenerator.nth`: SHA-1 of the seed's
# key and the number, as a UUID4), book a slot of the account's FIFO queue (the rule of `jobs.next_slot`, ending at
# the plan's end: see `lifecycle.run_length`), write the job's record (`records`), index it, and, for a job with a
# webhook target, mark it "webhooks unplanned" (by Redis's own time, ms) until `PLAN` writes its outbox entries:
# a worker that dies in between leaves the mark, and any worker's sweep plans the job (`UNPLANNED`). Then forget
# jobs past the TTL (mock time) and, once over the cap, the oldest down to the cap less the eviction batch (as
# `jobs.JobStore`), and tell every worker to drop its copies: a message with the change id the caller gave, which
# every worker acknowledges (`fleet.Fleet`), so the create that evicted answers once the fleet forgot those jobs.
# Several creates share one call (one round trip per event-loop turn).
# KEYS: ids counter, jobs by arrival number, by creation instant, unplanned (zset id -> ms), then the accounts'
#       slots (when each busy slot frees up)
# ARGV: id key, job key prefix, job TTL ms, max jobs, expiry instant, fleet channel, concurrency, slots TTL ms,
#       eviction batch, change id, then per create: its slots key's index in KEYS, now, queued_extra, run_length,
#       deadline (INF: none), draft, '1' when it has a webhook target
# Returns {arrival number, slot free instant, id} per create, flattened, then how many workers the eviction
# message reached (0: nothing evicted).
SUBMIT = """
local out, gone = {}, {}
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local concurrency = tonumber(ARGV[7])
for i = 11, #ARGV, 7 do
  local slots = KEYS[tonumber(ARGV[i])]
  local n = redis.call('INCR', KEYS[1])
  local now = tonumber(ARGV[i + 1])
  local slot_free = now
  if redis.call('ZCARD', slots) >= concurrency then
    local first = redis.call('ZRANGE', slots, 0, 0, 'WITHSCORES')
    slot_free = math.max(now, tonumber(first[2]))
    redis.call('ZREM', slots, first[1])
  end
  local ends = math.min((math.max(now, slot_free) + tonumber(ARGV[i + 2])) + tonumber(ARGV[i + 3]),
    tonumber(ARGV[i + 4]))
  redis.call('ZADD', slots, ends, n)
  redis.call('PEXPIRE', slots, ARGV[8])
  local h = redis.sha1hex(ARGV[1] .. n)
  local v = tonumber(string.sub(h, 17, 17), 16) % 4 + 1
  local id = string.sub(h, 1, 8) .. '-' .. string.sub(h, 9, 12) .. '-4' .. string.sub(h, 14, 16) .. '-'
    .. string.sub('89ab', v, v) .. string.sub(h, 18, 20) .. '-' .. string.sub(h, 21, 32)
  local slot = string.format('%.17g', slot_free)
  redis.call('HSET', ARGV[2] .. id, 'd', ARGV[i + 5], 's', slot, 'n', n)
  redis.call('PEXPIRE', ARGV[2] .. id, ARGV[3])
  redis.call('ZADD', KEYS[2], n, id)
  redis.call('ZADD', KEYS[3], now, id)
  if ARGV[i + 6] == '1' then redis.call('ZADD', KEYS[4], ms, id) end
  table.insert(out, n)
  table.insert(out, slot)
  table.insert(out, id)
end
gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[5], 'LIMIT', 0, 1000)
local extra = redis.call('ZCARD', KEYS[2]) - #gone - tonumber(ARGV[4])
if extra > 0 then
  extra = extra + tonumber(ARGV[9])
  for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, extra - 1)) do table.insert(gone, old) end
end
for _, old in ipairs(gone) do
  redis.call('ZREM', KEYS[2], old)
  redis.call('ZREM', KEYS[3], old)
  redis.call('ZREM', KEYS[4], old)
  redis.call('DEL', ARGV[2] .. old)
end
local reached = 0
if #gone > 0 then
  reached = redis.call('PUBLISH', ARGV[6], cjson.encode({id = ARGV[10], kind = 'evict', ids = gone}))
end
table.insert(out, reached)
return out
"""

# Write jobs' planned webhook deliveries to the outbox, each job's only if it is still marked unplanned (and unmark
# it): whoever takes the mark plans the job, so a job planned by its creator and by a sweep is written once.
# KEYS: unplanned, outbox (zset delivery id -> due instant), records (hash); ARGV: job delivery-set prefix, then
# per job: its id, how many deliveries k, then k (delivery id, record, due instant)
# Returns how many jobs were written.
PLAN = """
local i, written = 2, 0
while i <= #ARGV do
  local job, k = ARGV[i], tonumber(ARGV[i + 1])
  i = i + 2
  if redis.call('ZREM', KEYS[1], job) == 1 then
    for j = i, i + 3 * (k - 1), 3 do
      redis.call('HSET', KEYS[3], ARGV[j], ARGV[j + 1])
      redis.call('SADD', ARGV[1] .. job, ARGV[j])
      redis.call('ZADD', KEYS[2], ARGV[j + 2], ARGV[j])
    end
    written = written + 1
  end
  i = i + 3 * k
end
return written
"""

# Jobs marked unplanned for longer than ARGV[1] ms (Redis's clock): their creator died before planning them.
# KEYS: unplanned; ARGV: age in ms, limit
UNPLANNED = """
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
"""

# A journal's newest entries (a list, in the order written; `ScriptPipe.append` pushes and trims it) and the
# number of entries written before the first one returned: how many were ever written, less those it holds, plus
# the ones skipped. One script so that a write cannot fall between the count and the range.
# KEYS: the journal, how many entries were ever written to it; ARGV: how many of the newest to return (0: all)
READ = """
local len = redis.call('LLEN', KEYS[1])
local want = tonumber(ARGV[1])
local start = 0
if want > 0 and len > want then start = len - want end
local before = tonumber(redis.call('GET', KEYS[2]) or '0') - len + start
return {before, redis.call('LRANGE', KEYS[1], start, -1)}
"""

# A sliding-log rate-limit window (the same rule as `ratelimit.RateLimiter.hit`).
# KEYS: the window (zset of instants); ARGV: now, window seconds, limit, a unique member, TTL in ms
HIT = """
local now, win = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return string.format('%.17g', tonumber(first[2]))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return false
"""

# Charge credits. KEYS: balances (hash); ARGV: account, amount, initial ('' = unlimited)
# Returns 'unlimited', 'short', or the balance left.
# The credits:<n> scenario, fleet-wide: set the key's balance to ARGV[2] unless the scenario last set this very
# value for it (so a client sending the same header on every request spends its credits, whichever worker
# answers). KEYS: credits, the scenario's memory. Returns 1 when it set the balance.
CREDIT_SCENARIO = """
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

CHARGE = """
local b = redis.call('HGET', KEYS[1], ARGV[1])
if not b then b = ARGV[3] end
if b == '' or b == 'null' then return 'unlimited' end
b = tonumber(b)
local amount = tonumber(ARGV[2])
if b < amount then return 'short' end
redis.call('HSET', KEYS[1], ARGV[1], b - amount)
return tostring(b - amount)
"""

# Claim due webhook deliveries under a per-job lease (one worker sends a job's deliveries, in order).
# KEYS: outbox (zset delivery id -> due instant), records (hash), holders (hash), takes (hash)
# ARGV: now, this worker, lease ms, lease key prefix, limit
# Returns {earliest due instant not yet claimable or '', id, record, takes, id, record, takes, ...}.
CLAIM = """
local now = tonumber(ARGV[1])
local out = {''}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
for _, id in ipairs(due) do
  local record = redis.call('HGET', KEYS[2], id)
  if not record then
    redis.call('ZREM', KEYS[1], id)
  else
    local job = string.match(record, '"message_id":"([^"]+)"')
    local lease = ARGV[4] .. job
    local holder = redis.call('GET', lease)
    if not holder then
      redis.call('SET', lease, ARGV[2], 'PX', ARGV[3])
      holder = ARGV[2]
    end
    if holder == ARGV[2] and redis.call('HGET', KEYS[3], id) ~= ARGV[2] then
      redis.call('HSET', KEYS[3], id, ARGV[2])
      local takes = redis.call('HINCRBY', KEYS[4], id, 1)
      table.insert(out, id)
      table.insert(out, record)
      table.insert(out, takes)
    end
  end
end
local nxt = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #nxt > 0 then out[1] = nxt[2] end
return out
"""

# Renew this worker's leases. KEYS: lease keys; ARGV: this worker, lease ms
RENEW = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]) end
end
return 1
"""

# Give leases back at once (a clean shutdown), so another worker need not wait for them to expire.
# KEYS: holders hash, then lease keys; ARGV: this worker, then delivery ids
RELEASE = """
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
"""
