import { Document, isCollection, isMap, isScalar } from "yaml";
import type { Source } from "../config/load.ts";

/** The configuration as YAML, with where each option's value came from in a comment beside it. */
export function annotatedYaml(config: unknown, sources: Record<string, Source>, file: string): string {
  const document = new Document(config);
  document.commentBefore = [
    " The configuration in effect, secrets hidden. Beside each option, where its value came from:",
    ` its built-in default, the file ${file}, or the environment variable that set it.`,
  ].join("\n");
  for (const [option, source] of Object.entries(sources)) {
    const comment = ` ${source.from === "environment" ? `$${source.variable}` : source.from}`;
    annotate(document, option.split("."), comment);
  }
  return document.toString();
}

/** Writes a comment beside an option's value, or beside its name when the value is a block below it. */
function annotate(document: Document, path: string[], comment: string): void {
  const node = document.getIn(path, true);
  if (isCollection(node) && node.items.length > 0) {
    const section = path.length > 1 ? document.getIn(path.slice(0, -1), true) : document.contents;
    const pair = isMap(section)
      ? section.items.find((item) => isScalar(item.key) && item.key.value === path.at(-1))
      : undefined;
    if (isScalar(pair?.key)) pair.key.comment = comment;
  } else if (isScalar(node)) {
    node.comment = comment;
  } else if (isCollection(node)) {
    node.flow = true; // empty: `[]` or `{}` on the name's line, with its comment
    node.comment = comment;
  }
}
