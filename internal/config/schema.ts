/**
 * A small declarative schema for YAML configuration. One tree drives validation (every problem at once, with
 * its path), defaults, environment-variable resolution and the generated configuration reference, so the
 * four can never disagree. Keys are snake_case in YAML; the loaded value uses camelCase keys, and duration
 * keys gain an `Ms` suffix (`interval: 10s` -> `intervalMs: 10000`).
 */

/** Checks a value that already has the right type; returns a message ("must be ...") or undefined. */
export type Check<T> = (value: T) => string | undefined;

interface NodeBase<T> {
  /** Phantom: the loaded TypeScript type. Never set at run time. */
  readonly __type?: T;
  readonly doc: string;
  /** Value when the key is absent. Absent and no default means the key is required. */
  readonly default?: T;
  /** Absent is fine and loads as undefined. */
  readonly optional?: boolean;
  /** Method syntax on purpose: bivariant, so a `StringNode<'a' | 'b'>` is still a `SchemaNode`. */
  check?(value: T): string | undefined;
  /** Shown in the reference instead of the default, e.g. "hostname of the machine". */
  readonly defaultDoc?: string;
}

export interface StringNode<T extends string = string> extends NodeBase<T> {
  readonly kind: 'string';
  readonly enum?: readonly T[];
}
export interface IntNode extends NodeBase<number> {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
}
export interface NumberNode extends NodeBase<number> {
  readonly kind: 'number';
  readonly min: number;
  readonly max: number;
}
export interface BoolNode extends NodeBase<boolean> {
  readonly kind: 'bool';
}
/** Loads as milliseconds. */
export interface DurationNode extends NodeBase<number> {
  readonly kind: 'duration';
  readonly minMs: number;
  readonly maxMs?: number;
}
export interface ListNode<E extends SchemaNode = SchemaNode> extends NodeBase<unknown[]> {
  readonly kind: 'list';
  readonly of: E;
  /** Item field whose value must be unique across the list (e.g. "name"). */
  readonly uniqueBy?: string;
}
/** A mapping with operator-chosen keys (agent tokens per service). */
export interface MapNode<E extends SchemaNode = SchemaNode> extends NodeBase<Record<string, unknown>> {
  readonly kind: 'map';
  readonly of: E;
}
export type Fields = Record<string, SchemaNode>;
export interface ObjectNode<F extends Fields = Fields> extends NodeBase<Record<string, unknown>> {
  readonly kind: 'object';
  readonly fields: F;
}

export type SchemaNode =
  | StringNode
  | IntNode
  | NumberNode
  | BoolNode
  | DurationNode
  | ListNode
  | MapNode
  | ObjectNode;

/** snake_case -> camelCase at the type level; mirrors `camelKey`. */
export type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type OutKey<K extends string, N> = N extends DurationNode ? `${Camel<K>}Ms` : Camel<K>;
type Present<N> = N extends { optional: true } ? undefined : never;
export type InferObject<F extends Fields> = {
  -readonly [K in keyof F & string as OutKey<K, F[K]>]: Infer<F[K]> | Present<F[K]>;
};
/** The loaded TypeScript type of a schema node. */
export type Infer<N> =
  N extends ObjectNode<infer F>
    ? InferObject<F>
    : N extends ListNode<infer E>
      ? Infer<E>[]
      : N extends MapNode<infer E>
        ? Record<string, Infer<E>>
        : N extends NodeBase<infer T>
          ? T
          : never;

/** The camelCase key a YAML key loads as; mirrors `Camel`. */
export function camelKey(key: string, node: SchemaNode): string {
  const camel = key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return node.kind === 'duration' ? `${camel}Ms` : camel;
}

type Opts<T> = Omit<NodeBase<T>, '__type'>;

export function str<const T extends string = string>(
  opts: Opts<NoInfer<T>> & { enum?: readonly T[] },
): StringNode<T> {
  return { kind: 'string', ...opts };
}
export function int(opts: Opts<number> & { min: number; max: number }): IntNode {
  return { kind: 'int', ...opts };
}
export function num(opts: Opts<number> & { min: number; max: number }): NumberNode {
  return { kind: 'number', ...opts };
}
export function bool(opts: Opts<boolean>): BoolNode {
  return { kind: 'bool', ...opts };
}
/** `default` is in milliseconds. */
export function duration(opts: Opts<number> & { minMs: number; maxMs?: number }): DurationNode {
  return { kind: 'duration', ...opts };
}
export function list<E extends SchemaNode>(
  of: E,
  opts: Opts<unknown[]> & { uniqueBy?: string },
): ListNode<E> {
  return { kind: 'list', of, ...opts };
}
export function map<E extends SchemaNode>(of: E, opts: Opts<Record<string, unknown>>): MapNode<E> {
  return { kind: 'map', of, ...opts };
}
/** An object whose absent value is built from its fields' defaults. */
export function obj<F extends Fields>(fields: F, opts: { doc: string; optional?: boolean }): ObjectNode<F> {
  return { kind: 'object', fields, ...opts };
}
