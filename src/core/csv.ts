/**
 * One CSV record as Go's encoding/csv reads it — the format of Docker's `--mount` and
 * `--network` flags and of BuildKit's `RUN --mount`: fields split at commas, a field in double
 * quotes may hold commas and `""` for a quote. Errors carry Go's wording (a csv.ParseError), which
 * both Docker and BuildKit show: `parse error on line 1, column 15: bare " in non-quoted-field`.
 */
export function parseCsvRecord(value: string): string[] {
  const fail = (column: number, reason: string) => new Error(`parse error on line 1, column ${column}: ${reason}`);
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        const q = value.indexOf('"', i);
        if (q < 0) throw fail(value.length + 1, 'extraneous or missing " in quoted-field');
        field += value.slice(i, q);
        i = q + 1;
        if (value[i] === '"') {
          field += '"';
          i++;
        } else if (i === value.length || value[i] === ',') break;
        else throw fail(i + 1, 'extraneous or missing " in quoted-field');
      }
    } else {
      const end = value.indexOf(',', i);
      field = value.slice(i, end < 0 ? value.length : end);
      const quote = field.indexOf('"');
      if (quote >= 0) throw fail(i + quote + 1, 'bare " in non-quoted-field');
      i = end < 0 ? value.length : end;
    }
    fields.push(field);
    if (i >= value.length) return fields;
    i++; // the comma
  }
}
