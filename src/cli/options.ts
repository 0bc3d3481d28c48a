/** Option helpers shared by the command groups. */

/** Collects a repeatable option (`--filter a --filter b`) into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Docker's boolean flags accept `--flag=false`; commander options with this parser do too. */
export function boolFlag(value: string | undefined): boolean {
  return value === undefined || !['false', '0', 'f', 'F', 'FALSE', 'False'].includes(value);
}

/** Go's json.Marshal escaping (<, >, & as \u003c...), which Docker's JSON output has. */
export function goJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
}
