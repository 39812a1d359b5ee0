/**
 * A gateway config is UTF-8 text. Two mistakes make a file something else, and YAML
 * would take both without a word:
 * - a binary file given by mistake (a database, an image, `/bin/ls`): it holds NUL bytes;
 * - a file an editor saved as Latin-1 or Windows-1252: `°C` typed there is the single
 *   byte 0xB0, which is not UTF-8, reads as U+FFFD and would be published as "�C".
 * Checked before the YAML parser sees the text; the position is the first such character.
 */
export interface TextProblem {
  line: number;
  col: number;
  message: string;
}

export function notTextProblem(text: string): TextProblem | undefined {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return { ...positionOf(text, nul), message: 'this is not a text file (it holds NUL bytes) — a gateway config is YAML text: is it the right file?' };
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) {
    return {
      ...positionOf(text, bad),
      message: 'this is not UTF-8 (the file was saved as Latin-1 or Windows-1252? a ° or µ typed there is one byte that UTF-8 cannot read) — save the file as UTF-8',
    };
  }
  return undefined;
}

/** Line and column (1-based, in characters) of `index` in `text`. */
function positionOf(text: string, index: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: index - lineStart + 1 };
}
