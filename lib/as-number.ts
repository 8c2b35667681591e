/**
 * BGP autonomous system numbers: which ones a BGP speaker (a Calico node, the lab's router) may take as
 * its own. Plain values, no dependencies: the constructs and the lab configuration both check with them.
 */

/** Four-octet AS numbers (RFC 6793), as Calico (numorstring.ASNumber, a uint32), BIRD and FRR take them. */
export const AS_NUMBER_RANGE: readonly [number, number] = [1, 4294967295];

/** The private-use ranges of RFC 6996, the ones a lab should use. */
export const PRIVATE_AS_NUMBERS = '64512-65534 or 4200000000-4294967294 (private use, RFC 6996)';

/**
 * IANA's special-purpose AS numbers that no speaker may take as its own; the documentation ranges of
 * RFC 5398 (64496-64511, 65536-65551) are allowed, as examples are what they are for.
 */
const RESERVED: ReadonlyArray<{ from: number; to: number; why: string }> = [
  { from: 0, to: 0, why: 'reserved (RFC 7607: AS 0 marks a route as unusable)' },
  { from: 23456, to: 23456, why: 'AS_TRANS (RFC 6793), the placeholder two-octet speakers see for a four-octet AS' },
  { from: 65535, to: 65535, why: 'reserved (RFC 7300, the last two-octet AS number)' },
  { from: 65552, to: 131071, why: 'reserved by IANA (65552-131071)' },
  { from: 4294967295, to: 4294967295, why: 'reserved (RFC 7300, the last four-octet AS number)' },
];

/**
 * Why `value` cannot be a speaker's own AS number, as "got ..., <why>; allowed: ..." without the key,
 * or undefined when it can.
 */
export function asNumberProblem(value: unknown): string | undefined {
  const [min, max] = AS_NUMBER_RANGE;
  const allowed = `allowed: an AS number from ${min} to ${max}, best ${PRIVATE_AS_NUMBERS}`;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const reserved = value === 0 ? `, ${RESERVED[0].why}` : '';
    return `got ${JSON.stringify(value)}${reserved}; ${allowed}`;
  }
  const hit = RESERVED.find(r => value >= r.from && value <= r.to);
  return hit ? `got ${value}, ${hit.why}; ${allowed}` : undefined;
}

/** Throws a construct error when `value` cannot be a speaker's own AS number. */
export function checkAsNumber(what: string, value: unknown): void {
  const problem = asNumberProblem(value);
  if (problem) {
    throw new Error(`invalid ${what}: ${problem}`);
  }
}
