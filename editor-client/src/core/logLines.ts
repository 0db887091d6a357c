/**
 * Plain helpers for the "NetViz" log (no `vscode` import, so they are unit-tested):
 * cutting a process's output stream into lines, and writing the details that come with
 * a language-client message.
 */

/** Cuts chunks of a stream into whole lines; an unfinished last line waits for the next chunk. */
export class LineBuffer {
  private rest = "";

  /** The lines `chunk` completes (without their line ends). */
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split(/\r?\n/);
    this.rest = parts.pop() ?? "";
    return parts;
  }

  /** The unfinished line, if any. */
  get partial(): string {
    return this.rest;
  }

  clear(): void {
    this.rest = "";
  }
}

/** Keeps the last `size` lines. */
export class LineTail {
  private lines: string[] = [];

  constructor(private readonly size: number) {}

  add(lines: string[]): void {
    this.lines.push(...lines);
    if (this.lines.length > this.size) this.lines.splice(0, this.lines.length - this.size);
  }

  get all(): string[] {
    return [...this.lines];
  }

  clear(): void {
    this.lines = [];
  }
}

/**
 * The detail vscode-languageclient passes along with a message of its own (an error,
 * a response error, a string), as text to follow the message; "" when there is none.
 */
export function describeData(data: unknown): string {
  if (data === undefined || data === null) return "";
  if (typeof data === "string") return data;
  const record = data as { message?: unknown; code?: unknown };
  // A JSON-RPC ResponseError (an Error too): its message and code say more than its stack.
  if (typeof record.message === "string" && typeof record.code === "number") {
    return `${record.message} (code ${record.code})`;
  }
  if (data instanceof Error) return data.stack ?? data.message;
  try {
    return JSON.stringify(data);
  } catch {
    return String(data);
  }
}

/** `message`, followed by its detail on the next lines when there is one. */
export function withData(message: string, data: unknown): string {
  const detail = describeData(data);
  return detail ? `${message}\n${detail}` : message;
}
