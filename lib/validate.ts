/** Checks shared by the constructs; each throws a plain Error quoting the bad value and what is allowed. */

/** A DNS-1123 label, as Kubernetes object names and kind cluster names must be. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function checkDnsLabel(what: string, value: string, maxLength = 63): void {
  if (!DNS1123_LABEL.test(value) || value.length > maxLength) {
    throw new Error(`invalid ${what} ${JSON.stringify(value)}: must be a dns-1123 label of at most ${maxLength} characters`);
  }
}

export function checkPort(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`invalid ${what} ${JSON.stringify(value)}: must be an integer from 1 to 65535`);
  }
}

// A label key: an optional DNS-subdomain prefix and '/', then a name of up to 63 characters.
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Kubernetes label keys and values, as a matchLabels selector needs them. */
export function checkLabels(what: string, labels: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    const keyOk = LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)));
    if (!keyOk || typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      throw new Error(`invalid ${what} ${JSON.stringify(labels)}: ${JSON.stringify(key)}=${JSON.stringify(value)} is not a kubernetes label (key: [prefix/]name of up to 63 alphanumerics, '-', '_', '.'; value: the same, or empty)`);
    }
  }
}
