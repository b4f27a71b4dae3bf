// The rule expression language, for what groups cannot say:
//   auth.uid == created_by || published == true
//   auth.role == "editor" && !(archived == true)
//   auth.claims.org_id == org_id
// Grammar (parsed once, when the schema is loaded):
//   expr    = and *("||" and)
//   and     = unary *("&&" unary)
//   unary   = "!" unary | "(" expr ")" | operand cmp operand
//   cmp     = "==" | "!=" | "<" | "<=" | ">" | ">="
//   operand = column | column "[" digit "]" | column "." key | auth.uid | auth.role | auth.group | auth.claims.<name>
//           | "string" | 'string' | number | true | false | null
// No functions, no arithmetic: every rule compiles to a comparison tree whose
// values are bound parameters.

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Operand =
  | { kind: 'column'; name: string }
  | { kind: 'auth'; field: 'uid' | 'role' | 'group' }
  | { kind: 'claim'; name: string }
  | { kind: 'literal'; value: string | number | boolean | null };

export type RuleExpr =
  | { kind: 'or' | 'and'; items: RuleExpr[] }
  | { kind: 'not'; item: RuleExpr }
  | { kind: 'compare'; op: CompareOp; left: Operand; right: Operand };

export class RuleSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at character ${position + 1}`);
    this.name = 'RuleSyntaxError';
  }
}

type Token =
  | { t: 'op'; v: string; at: number }
  | { t: 'ident'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: number; at: number }
  | { t: 'end'; at: number };

const MAX_SOURCE = 2000;
const MAX_DEPTH = 16;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const two = source.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) { tokens.push({ t: 'op', v: two, at: i }); i += 2; continue; }
    if ('<>!()'.includes(c)) { tokens.push({ t: 'op', v: c, at: i }); i++; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < source.length && source[j] !== c) {
        if (source[j] === '\\' && j + 1 < source.length) { value += source[j + 1]; j += 2; continue; }
        value += source[j];
        j++;
      }
      if (j >= source.length) throw new RuleSyntaxError('unterminated string', i);
      tokens.push({ t: 'string', v: value, at: i });
      i = j + 1;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(source.slice(i));
    if (number) { tokens.push({ t: 'number', v: Number(number[0]), at: i }); i += number[0].length; continue; }
    // `name[0]`: an indexed name, for storage's path helpers (`folder[0] == auth.uid`); a table
    // has no such column, so the Data API's schema check refuses it there.
    const ident = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*(\[\d\])?/i.exec(source.slice(i));
    if (ident) { tokens.push({ t: 'ident', v: ident[0], at: i }); i += ident[0].length; continue; }
    throw new RuleSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
  }
  tokens.push({ t: 'end', at: source.length });
  return tokens;
}

export interface ParseRuleOptions {
  /** Columns holding a JSON object whose keys a rule may name as `column.key` (storage's `metadata`). */
  keyed?: readonly string[];
}

export function parseRule(source: string, options: ParseRuleOptions = {}): RuleExpr {
  if (source.length > MAX_SOURCE) throw new RuleSyntaxError(`rule longer than ${MAX_SOURCE} characters`, 0);
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const isOp = (v: string) => { const t = peek(); return t.t === 'op' && t.v === v; };

  function operand(): Operand {
    const t = tokens[pos++]!;
    if (t.t === 'string') return { kind: 'literal', value: t.v };
    if (t.t === 'number') return { kind: 'literal', value: t.v };
    if (t.t !== 'ident') throw new RuleSyntaxError('expected a column, auth.… or a value', t.at);
    if (t.v === 'true' || t.v === 'false') return { kind: 'literal', value: t.v === 'true' };
    if (t.v === 'null') return { kind: 'literal', value: null };
    const parts = t.v.split('.');
    if (parts[0] === 'auth') {
      if (parts.length === 2 && (parts[1] === 'uid' || parts[1] === 'role' || parts[1] === 'group')) return { kind: 'auth', field: parts[1] };
      if (parts.length === 3 && parts[1] === 'claims') return { kind: 'claim', name: parts[2]! };
      throw new RuleSyntaxError(`unknown ${t.v}: use auth.uid, auth.role, auth.group or auth.claims.<name>`, t.at);
    }
    // `column.key`: one key into a column the caller declared keyed (storage's `metadata.visibility`);
    // the table's model then decides whether the key is well-formed, as for `folder[0]`.
    if (parts.length !== 1 && !(parts.length === 2 && options.keyed?.includes(parts[0]!))) throw new RuleSyntaxError(`unknown name ${t.v}`, t.at);
    return { kind: 'column', name: t.v };
  }

  function unary(depth: number): RuleExpr {
    if (depth > MAX_DEPTH) throw new RuleSyntaxError('rule nested too deeply', peek().at);
    if (isOp('!')) { pos++; return { kind: 'not', item: unary(depth + 1) }; }
    if (isOp('(')) {
      pos++;
      const inner = expr(depth + 1);
      if (!isOp(')')) throw new RuleSyntaxError('expected )', peek().at);
      pos++;
      return inner;
    }
    const left = operand();
    const t = peek();
    if (t.t !== 'op' || !['==', '!=', '<', '<=', '>', '>='].includes(t.v)) throw new RuleSyntaxError('expected a comparison (==, !=, <, <=, >, >=)', t.at);
    pos++;
    return { kind: 'compare', op: t.v as CompareOp, left, right: operand() };
  }

  function chain(kind: 'and' | 'or', op: string, next: () => RuleExpr): RuleExpr {
    const items = [next()];
    while (isOp(op)) { pos++; items.push(next()); }
    return items.length === 1 ? items[0]! : { kind, items };
  }

  function expr(depth: number): RuleExpr {
    return chain('or', '||', () => chain('and', '&&', () => unary(depth)));
  }

  const result = expr(0);
  if (peek().t !== 'end') throw new RuleSyntaxError('unexpected text after the rule', peek().at);
  return result;
}

/** Columns a rule reads, to check them against the table when the schema is validated. */
export function ruleColumns(expr: RuleExpr, out: Set<string> = new Set()): Set<string> {
  if (expr.kind === 'compare') {
    for (const side of [expr.left, expr.right]) if (side.kind === 'column') out.add(side.name);
  } else if (expr.kind === 'not') ruleColumns(expr.item, out);
  else for (const item of expr.items) ruleColumns(item, out);
  return out;
}
