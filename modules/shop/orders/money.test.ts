// Price parsing is strict both ways: cents survive the round trip, and anything not a plain decimal is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { centsToPrice, PRICE_PATTERN, priceToCents } from './money.ts';

test('decimal strings become integer cents and back', () => {
  assert.equal(priceToCents('100000.99'), 10_000_099);
  assert.equal(priceToCents('0'), 0);
  assert.equal(priceToCents('5.5'), 550);
  assert.equal(priceToCents('999999999999.99'), 99_999_999_999_999);
  assert.equal(centsToPrice(10_000_099), '100000.99');
  assert.equal(centsToPrice(550), '5.50');
  assert.equal(centsToPrice(0), '0.00');
  assert.equal(centsToPrice(7), '0.07');
  for (const p of ['0.01', '1.10', '42.00', '123456789012.34']) assert.equal(centsToPrice(priceToCents(p)), p);
});

test('anything else is not a price', () => {
  for (const bad of ['-1', '1.', '.5', '1.234', '1e3', ' 1', '1 ', '01', '+1', '1,00', 'NaN', '', '1234567890123', '0x10']) {
    assert.equal(PRICE_PATTERN.test(bad), false, bad);
    assert.throws(() => priceToCents(bad));
  }
});
