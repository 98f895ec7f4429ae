// TypeDoc plugin of this project (typedoc.json "plugin"): a `{@link Name}` that TypeScript cannot
// resolve where the comment is (the name is not imported in that file) links to the one export
// of that name among the entry points (express-m2m, /extend, /testing, /redis), when exactly one
// entry point exports it. Anything else is left to TypeDoc, which warns as usual.
import { Converter, Reflection } from 'typedoc';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const { project } = context;
    /** @type {Map<string, Reflection[]>} */
    const exports = new Map();
    for (const entry of project.children ?? []) {
      for (const child of entry.children ?? []) {
        exports.set(child.name, [...(exports.get(child.name) ?? []), child]);
      }
    }
    const fix = (parts) => {
      for (const part of parts) {
        if (part.kind !== 'inline-tag' || part.tag !== '@link') continue;
        if (typeof part.target === 'string' || part.target instanceof Reflection) continue;
        if (part.target !== undefined && project.getReflectionsFromSymbolId(part.target).length > 0) continue;
        const name = part.text.trim();
        const found = IDENTIFIER.test(name) ? exports.get(name) : undefined;
        if (found?.length === 1) part.target = found[0];
      }
    };
    for (const reflection of Object.values(project.reflections)) {
      if (!reflection.comment) continue;
      fix(reflection.comment.summary);
      for (const tag of reflection.comment.blockTags) fix(tag.content);
    }
  }, 100); // before TypeDoc's own link resolution (priority -300)
}
