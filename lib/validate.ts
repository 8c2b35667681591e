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
