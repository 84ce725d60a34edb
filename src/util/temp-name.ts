let written = 0;

/**
 * A name beside `file` to write it under before renaming it into place, so that a reader never sees half a file.
 * Unique within the process too: two runEvals() calls compiling one file at once shared `<file>.<pid>.tmp`, and
 * the second rename found it gone.
 */
export function tempNameFor(file: string): string {
  written++;
  return `${file}.${process.pid}-${written}.tmp`;
}
