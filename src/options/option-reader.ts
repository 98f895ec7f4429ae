/**
 * Internal: the options kit. Every public function reads its options through one `OptionReader`,
 * so every option is validated and defaulted in one place, in one style:
 *
 * - unknown names are refused at every nesting level, with the nearest known name suggested
 *   (`requireAuth: unknown option "jwks.cacheMaxAgee" (did you mean "jwks.cacheMaxAge"?)`);
 * - each error names the caller and the option's full path, and, when the value came from an
 *   environment variable, the variable (`"audience" (from AUDIENCE) must be ...`), so the user
 *   knows what to fix and where;
 * - one validator per kind of value (durations, integers, URLs, lists, one-of, functions).
 *
 * Messages never echo a value that may be a secret: validators describe what is expected, and
 * only URLs (which are not secret) are shown back, bounded.
 */
import { isHttpUrl, isLoopback } from '../lib/urls.js';
import { firstUnknownName, nearestName } from './unknown-keys.js';

/** Where the values of some options came from: option path -> environment variable. */
export type EnvironmentOrigins = ReadonlyMap<string, string>;

/** The names a reader accepts: a record typed by the options interface keeps the list complete. */
export type KnownOptions<T> = Readonly<Record<keyof T & string, true>>;

/** What a reader is told about the options it reads. */
export interface OptionReaderContext {
  /** The public function whose options these are, e.g. `requireAuth` (every message starts with it). */
  caller: string;
  /** Path of this object inside the caller's options, e.g. `jwks.` (empty at the top). */
  path?: string;
  /** Options whose value came from the environment. */
  env?: EnvironmentOrigins;
  /** Extra words for unknown names that belong elsewhere, e.g. `{ allowQueryToken: 'an option of requireAuth' }`. */
  elsewhere?: Readonly<Record<string, string>>;
}

/** A list option's accepted forms. */
interface ListRules {
  /** A single string is accepted: split at spaces, or taken as one item. */
  string?: 'split' | 'single';
  /** An empty list is accepted. Default false. */
  empty?: boolean;
  /** Words for the error message, e.g. `a non-empty string or an array of non-empty strings`. */
  expected?: string;
}

export class OptionReader<T extends object> {
  readonly caller: string;
  private readonly values: Record<string, unknown>;
  private readonly path: string;
  private readonly env: EnvironmentOrigins | undefined;

  /**
   * Checks that `values` is an object (or undefined: no options) whose names are all `known`.
   * Throws a `TypeError` naming the first unknown option, with a suggestion.
   */
  constructor(values: unknown, known: KnownOptions<T> | ReadonlySet<string>, context: OptionReaderContext) {
    this.caller = context.caller;
    this.path = context.path ?? '';
    this.env = context.env;
    if (values !== undefined && (typeof values !== 'object' || values === null || Array.isArray(values))) {
      throw new TypeError(this.path === ''
        ? `${this.caller}: the options must be an object`
        : `${this.caller}: "${this.path.slice(0, -1)}" must be an object`);
    }
    this.values = (values ?? {}) as Record<string, unknown>;
    const names = known instanceof Set ? known as ReadonlySet<string> : new Set(Object.keys(known));
    const unknown = firstUnknownName(this.values, names);
    if (unknown !== undefined) {
      const shown = JSON.stringify(`${this.path}${unknown.slice(0, 40)}`);
      const where = context.elsewhere?.[unknown];
      const nearest = where === undefined ? nearestName(unknown, [...names]) : undefined;
      const hint = where !== undefined ? ` (${where})` : nearest !== undefined ? ` (did you mean "${this.path}${nearest}"?)` : '';
      throw new TypeError(`${this.caller}: unknown option ${shown}${hint}`);
    }
  }

  /** Where the values of this reader's options came from (option path -> environment variable). */
  get origins(): EnvironmentOrigins | undefined {
    return this.env;
  }

  /** The raw value of `name` (undefined when not given). */
  raw(name: keyof T & string): unknown {
    return this.values[name];
  }

  /** Whether `name` was given (a value other than undefined). */
  has(name: keyof T & string): boolean {
    return this.values[name] !== undefined;
  }

  /** `"<path><name>"`, with ` (from the environment variable X)` when its value came from there. */
  describe(name: string): string {
    const variable = this.env?.get(`${this.path}${name}`);
    return `"${this.path}${name}"${variable === undefined ? '' : ` (from the environment variable ${variable})`}`;
  }

  /** A `TypeError` for `name`: `<caller>: "<path><name>" <message>`, naming the variable it came from. */
  error(name: string, message: string): TypeError {
    return new TypeError(`${this.caller}: ${this.describe(name)} ${message}`);
  }

  /** Throws {@link error}. */
  fail(name: string, message: string): never {
    throw this.error(name, message);
  }

  /** Throws a `TypeError` about these options as a whole: `<caller>: [<path>: ]<message>`. */
  failWith(message: string): never {
    const where = this.path === '' ? '' : `${this.path.slice(0, -1)}: `;
    throw new TypeError(`${this.caller}: ${where}${message}`);
  }

  /**
   * Throws because a required option is missing: `"audience" is required (<why>)`, and how to
   * give it: `set AUDIENCE or pass "audience"` when an environment variable can give it.
   */
  required(name: string, why: string, variable?: string): never {
    const how = variable === undefined ? '' : `: set ${variable} or pass "${this.path}${name}"`;
    throw new TypeError(`${this.caller}: "${this.path}${name}" is required (${why})${how}`);
  }

  /** A nested options object, read with the same context (`jwks: { ... }`). */
  nested<N extends object>(name: keyof T & string, known: KnownOptions<N>): OptionReader<N> {
    return new OptionReader<N>(this.values[name], known, {
      caller: this.caller,
      path: `${this.path}${name}.`,
      ...(this.env === undefined ? {} : { env: this.env }),
    });
  }

  boolean(name: keyof T & string, fallback: boolean): boolean {
    const value = this.values[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(name, 'must be a boolean');
    return value;
  }

  /** A non-empty string, or `undefined` when not given. */
  string(name: keyof T & string): string | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') this.fail(name, 'must be a non-empty string');
    return value;
  }

  /** A function, or `undefined` when not given. */
  func<F extends (...args: never[]) => unknown>(name: keyof T & string, what = 'a function'): F | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'function') this.fail(name, `must be ${what}`);
    return value as F;
  }

  /** A finite number, positive (or 0 with `zero: true`); `unit` names it in the message. */
  number(name: keyof T & string, fallback: number, rules: { zero?: boolean; unit?: string } = {}): number {
    const value = this.values[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (rules.zero !== true && value === 0)) {
      const unit = rules.unit === undefined ? '' : ` of ${rules.unit}`;
      this.fail(name, `must be a ${rules.zero === true ? 'non-negative' : 'positive'} finite number${unit}`);
    }
    return value;
  }

  /** Milliseconds: a finite number, positive (or 0 with `zero: true`). */
  duration(name: keyof T & string, fallback: number, rules: { zero?: boolean } = {}): number {
    return this.number(name, fallback, { ...rules, unit: 'milliseconds' });
  }

  /** Seconds: a finite number, 0 or more; `undefined` stays undefined without a fallback. */
  seconds(name: keyof T & string, fallback: number): number;
  seconds(name: keyof T & string, fallback?: undefined): number | undefined;
  seconds(name: keyof T & string, fallback?: number): number | undefined {
    const value = this.values[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) this.fail(name, 'must be a finite number of seconds, 0 or more');
    return value;
  }

  /** An integer in [min, max] (default: a positive integer). */
  integer(name: keyof T & string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const value = this.values[name];
    if (value === undefined) return fallback;
    const min = range.min ?? 1;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.fail(name, range.max === undefined && min === 1 ? 'must be a positive integer'
        : range.max === undefined ? `must be an integer of ${min} or more` : `must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  /** One of `choices`. */
  oneOf<C extends string>(name: keyof T & string, choices: readonly C[], fallback: C): C;
  oneOf<C extends string>(name: keyof T & string, choices: readonly C[], fallback?: undefined): C | undefined;
  oneOf<C extends string>(name: keyof T & string, choices: readonly C[], fallback?: C): C | undefined {
    const value = this.values[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      const listed = choices.map((choice) => `'${choice}'`);
      this.fail(name, `must be ${listed.length === 1 ? listed[0] : `${listed.slice(0, -1).join(', ')} or ${listed.at(-1)}`}`);
    }
    return value as C;
  }

  /**
   * An absolute http(s) URL, or `undefined` when not given. Plain `http:` is refused unless it
   * names this machine (loopback) or `allowInsecure` says the user allowed it: over a network,
   * keys fetched in clear can be swapped and credentials or tokens read.
   */
  httpUrl(name: keyof T & string, allowInsecure = false): string | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    const shown = typeof value === 'string' ? `, got ${JSON.stringify(value.slice(0, 200))}` : '';
    if (!isHttpUrl(value)) this.fail(name, `must be an absolute http(s) URL${shown}`);
    const url = new URL(value);
    if (url.protocol === 'http:' && !allowInsecure && !isLoopback(url)) {
      this.fail(name, `must be an https URL${shown}: over plain http, keys can be swapped and secrets and tokens read in transit `
        + '(loopback addresses are allowed; on a test network set "allowInsecureHttp: true")');
    }
    return value;
  }

  /** A list of non-empty strings (deduplicated, in order), or `undefined` when not given. */
  stringList(name: keyof T & string, rules: ListRules = {}): string[] | undefined {
    let value = this.values[name];
    if (value === undefined) return undefined;
    if (typeof value === 'string' && rules.string !== undefined) {
      value = rules.string === 'split' ? value.split(' ').filter((item) => item !== '') : value === '' ? [''] : [value];
    }
    if (!Array.isArray(value) || (rules.empty !== true && value.length === 0)
      || !value.every((item) => typeof item === 'string' && item !== '')) {
      this.fail(name, `must be ${rules.expected ?? (rules.string === undefined ? 'an array of non-empty strings' : 'a string or an array of non-empty strings')}`);
    }
    return [...new Set(value as string[])];
  }
}
