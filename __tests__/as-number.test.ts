import { asNumberProblem } from '../lib/as-number';

describe('AS numbers a speaker may take', () => {
  test.each([1, 64496, 64512, 65000, 65534, 65536, 131072, 4200000000, 4294967294])('%d is allowed', (as) => {
    expect(asNumberProblem(as)).toBeUndefined();
  });

  test.each<[number | string, RegExp]>([
    [0, /reserved \(RFC 7607/],
    [23456, /AS_TRANS \(RFC 6793\)/],
    [65535, /reserved \(RFC 7300, the last two-octet AS number\)/],
    [65552, /reserved by IANA \(65552-131071\)/],
    [131071, /reserved by IANA/],
    [4294967295, /reserved \(RFC 7300, the last four-octet AS number\)/],
    [4294967296, /^got 4294967296; allowed: an AS number from 1 to 4294967295, best 64512-65534 or 4200000000-4294967294/],
    [-1, /^got -1; allowed/],
    ['65000', /^got "65000"; allowed/],
  ])('fails if it is %p', (as, message) => {
    expect(asNumberProblem(as)).toMatch(message);
  });
});
