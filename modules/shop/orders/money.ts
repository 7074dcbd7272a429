// Prices: strict decimal strings on the wire ("100000.99"), integer cents in storage, so no float ever rounds them.

/** Non-negative, no sign, no exponent, no leading zeros, at most 12 integer digits and 2 decimals. */
export const PRICE_PATTERN = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$/;

export function priceToCents(price: string): number {
  const m = PRICE_PATTERN.exec(price);
  if (!m) throw new Error(`not a price: ${price}`);
  const decimals = (m[2] ?? '.').slice(1).padEnd(2, '0');
  return Number(m[1]) * 100 + Number(decimals);
}

export function centsToPrice(cents: number): string {
  const whole = Math.floor(cents / 100);
  return `${whole}.${String(cents - whole * 100).padStart(2, '0')}`;
}
