/** Renders a schema as the Markdown configuration reference in docs/ (checked against the schema by a test). */
import { formatDuration } from './duration.js';
import type { SchemaNode } from './schema.js';

/** One table row per leaf key, grouped under each object's heading. */
export function renderReference(root: SchemaNode, title: string, intro: string): string {
  const out: string[] = [`# ${title}`, '', intro, ''];
  const visit = (node: SchemaNode, path: string): void => {
    if (node.kind === 'object') {
      const leaves = Object.entries(node.fields).filter(([, c]) => !isContainer(c));
      if (leaves.length > 0 || path === '') {
        out.push(`## \`${path === '' ? '(top level)' : path}\``, '', node.doc, '');
      }
      if (leaves.length > 0) {
        out.push('| key | type | default | description |', '|---|---|---|---|');
        for (const [key, child] of leaves) {
          out.push(
            `| \`${key}\` | ${typeOf(child)} | ${defaultOf(child)} | ${child.doc.replaceAll('|', '\\|')} |`,
          );
        }
        out.push('');
      }
      for (const [key, child] of Object.entries(node.fields)) {
        if (isContainer(child)) visit(child, path === '' ? key : `${path}.${key}`);
      }
    } else if (node.kind === 'list' && node.of.kind === 'object') {
      visit(node.of, `${path}[]`);
    }
  };
  visit(root, '');
  return `${out.join('\n').trimEnd()}\n`;
}

function isContainer(node: SchemaNode): boolean {
  return node.kind === 'object' || (node.kind === 'list' && node.of.kind === 'object');
}

function typeOf(node: SchemaNode): string {
  switch (node.kind) {
    case 'string':
      return node.enum === undefined ? 'string' : node.enum.map((e) => `\`${e}\``).join(' \\| ');
    case 'int':
      return `integer ${node.min}..${node.max}`;
    case 'number':
      return `number ${node.min}..${node.max}`;
    case 'bool':
      return 'boolean';
    case 'duration':
      return `duration ≥ ${formatDuration(node.minMs)}`;
    case 'list':
      return `list of ${typeOf(node.of)}`;
    case 'map':
      return `map of ${typeOf(node.of)}`;
    case 'object':
      return 'mapping';
  }
}

function defaultOf(node: SchemaNode): string {
  if (node.defaultDoc !== undefined) return node.defaultDoc;
  if (node.default === undefined) return node.optional === true ? '(unset)' : '**required**';
  if (node.kind === 'duration') return `\`${formatDuration(node.default)}\``;
  return `\`${JSON.stringify(node.default)}\``;
}
