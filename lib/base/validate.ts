/**
 * Checks of configuration values, shared by every module: each throws before any work starts,
 * naming the field and the bad value (`RangeError` for a value out of range, `TypeError` for a
 * value of the wrong type).
 * @module
 */

/** The value as a message shows it: strings quoted, numbers as written, arrays and objects as JSON. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value) || (value !== null && typeof value === "object")) {
    try {
      return JSON.stringify(value).slice(0, 80);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/** Throw a TypeError unless `value` is a number (a string "10" is not). */
function number(field: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`${field} must be a number; got ${show(value)} (${typeof value})`);
  }
  return value;
}

/**
 * Throw unless `value` is an integer >= 1.
 * @example
 * ```ts
 * positiveInteger("epochs", 10); // returns 10
 * positiveInteger("epochs", 0); // RangeError: epochs must be a positive integer; got 0
 * ```
 */
export function positiveInteger(field: string, value: number): number {
  number(field, value);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${field} must be a positive integer; got ${show(value)}`);
  }
  return value;
}

/** Throw unless `value` is a safe integer (seeds may be negative). */
export function integer(field: string, value: number): number {
  number(field, value);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${field} must be an integer; got ${show(value)}`);
  }
  return value;
}

/** Throw unless `value` is a finite number > 0. */
export function positiveNumber(field: string, value: number): number {
  number(field, value);
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`${field} must be a positive number; got ${show(value)}`);
  }
  return value;
}

/** Throw unless `value` is a finite number >= 0. */
export function nonNegativeNumber(field: string, value: number): number {
  number(field, value);
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${field} must be a non-negative number; got ${show(value)}`);
  }
  return value;
}

/** Throw unless `value` is one of `allowed`. */
export function oneOf<T extends string | number>(
  field: string,
  value: T,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value)) {
    throw new RangeError(
      `${field} must be one of ${allowed.map(show).join(", ")}; got ${show(value)}`,
    );
  }
  return value;
}
