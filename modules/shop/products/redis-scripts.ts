// Lua for the Redis products store: each script is one atomic step (Redis runs a script alone), loaded once, run by EVALSHA.
//
// Keys (prefix P): P:product:<id> hash · P:products zset (score 0, ids in byte order) · P:titles hash id→title
// P:holds:<id> hash reservation→quantity · P:hold-expiry:<id> zset reservation→expiry ms
// P:reservation:<rid> hash product→quantity (expires with the holds) · P:applied:<rid> flag (7 days)

/** KEYS: product, index, titles. ARGV: id, title, passenger_capacity, maximum_speed, in_stock. → 1 created, 0 taken */
export const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'title', ARGV[2], 'passenger_capacity', ARGV[3], 'maximum_speed', ARGV[4], 'in_stock', ARGV[5])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1`;

/**
 * KEYS: index, titles. ARGV: min (a ZRANGEBYLEX bound), count. → id, title, id, title … of the next `count`
 * ids in byte order: one round trip per slice of the index for the title filter, which matches in the process.
 */
export const TITLES = `
local ids = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return {} end
local titles = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = titles[i] or ''
end
return out`;

/** KEYS: product, titles. ARGV: id, field, value, field, value… → the product's fields, or nil when missing */
export const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  if ARGV[i] == 'title' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[i + 1]) end
end
return redis.call('HGETALL', KEYS[1])`;

/** KEYS: product, index, titles, holds, hold-expiry. ARGV: id. → 1 deleted, 0 missing */
export const DELETE = `
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4], KEYS[5])
return 1`;

/**
 * KEYS: reservation, applied, then per line: product, holds, hold-expiry.
 * ARGV: reservation id, now ms, expiry ms, ttl ms, then per line: product id, quantity; then verdicts on expired
 * holds, pairs of reservation id and 'drop' (no order was stored: the hold goes) or 'keep' (its order exists:
 * the hold stays until order_created is applied, and never expires again).
 * → {'ok'} | {'not_found', id} | {'out_of_stock', id, available} | {'check', rid, rid…}: expired holds without a
 * verdict; the caller asks the orders table and calls again with verdicts. Nothing is held until then.
 */
export const RESERVE = `
local rid, now, expiry, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return {'ok'} end
local n = (#KEYS - 2) / 3
local verdict = {}
for i = 5 + n * 2, #ARGV, 2 do verdict[ARGV[i]] = ARGV[i + 1] end
local unknown = {}
for i = 0, n - 1 do
  local p, h, e = KEYS[3 + i * 3], KEYS[4 + i * 3], KEYS[5 + i * 3]
  if redis.call('EXISTS', p) == 0 then return {'not_found', ARGV[5 + i * 2]} end
  for _, r in ipairs(redis.call('ZRANGEBYSCORE', e, '-inf', now)) do
    local v = verdict[r]
    if v == 'drop' then
      redis.call('HDEL', h, r)
      redis.call('ZREM', e, r)
    elseif v == 'keep' then
      redis.call('ZADD', e, '+inf', r)
    else
      unknown[#unknown + 1] = r
    end
  end
end
if #unknown > 0 then return {'check', unpack(unknown)} end
for i = 0, n - 1 do
  local p, h = KEYS[3 + i * 3], KEYS[4 + i * 3]
  local id, q = ARGV[5 + i * 2], tonumber(ARGV[6 + i * 2])
  local held = 0
  for _, v in ipairs(redis.call('HVALS', h)) do held = held + tonumber(v) end
  local available = tonumber(redis.call('HGET', p, 'in_stock')) - held
  if available < q then return {'out_of_stock', id, tostring(math.max(available, 0))} end
end
for i = 0, n - 1 do
  local h, e = KEYS[4 + i * 3], KEYS[5 + i * 3]
  local id, q = ARGV[5 + i * 2], ARGV[6 + i * 2]
  redis.call('HSET', h, rid, q)
  redis.call('ZADD', e, expiry, rid)
  redis.call('HSET', KEYS[1], id, q)
end
redis.call('PEXPIRE', KEYS[1], ttl)
return {'ok'}`;

/** KEYS: reservation, then per product: holds, hold-expiry. ARGV: reservation id. → 1 when it had holds */
export const RELEASE = `
local had = redis.call('DEL', KEYS[1])
for i = 2, #KEYS, 2 do
  redis.call('HDEL', KEYS[i], ARGV[1])
  redis.call('ZREM', KEYS[i + 1], ARGV[1])
end
return had`;

/**
 * KEYS: applied, reservation, then per line: product, holds, hold-expiry.
 * ARGV: reservation id, applied-flag ttl seconds, then per line: quantity.
 * → 1 applied, 0 already applied. A missing product hash is left missing (HINCRBY would re-create it).
 */
export const APPLY = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
local n = (#KEYS - 2) / 3
for i = 0, n - 1 do
  local p, h, e = KEYS[3 + i * 3], KEYS[4 + i * 3], KEYS[5 + i * 3]
  local q = tonumber(ARGV[3 + i])
  local stock = redis.call('HGET', p, 'in_stock')
  if stock then
    local left = tonumber(stock) - q
    if left < 0 then left = 0 end
    redis.call('HSET', p, 'in_stock', left)
  end
  redis.call('HDEL', h, ARGV[1])
  redis.call('ZREM', e, ARGV[1])
end
redis.call('DEL', KEYS[2])
return 1`;
