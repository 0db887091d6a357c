/**
 * Bookkeeping for the drawings the panel asks the server for (`netviz.renderView`):
 * which one to ask for, and which answer to take. The latest request wins: an answer
 * to an older one (the user picked another view meanwhile, or a new build arrived) is
 * dropped, so a slow drawing can never replace a newer one. An error answer counts as
 * answered too, so a view the server cannot draw is not asked for again until it changes.
 */

import type { ViewRequest } from "./protocol";

/** One drawing: a view of a factory of a file, as of one accepted diagram update. */
export interface ViewKey extends ViewRequest {
  uri: string;
  /** `FileDiagram.sequence`: a new build of the file means a new drawing. */
  sequence: number;
}

export class ViewRequests {
  private nextId = 1;
  private pending: { id: number; key: ViewKey; text: string } | null = null;
  /** The drawing whose answer was accepted last. */
  private answered: string | null = null;

  /** A fresh request id when `key` is neither answered nor already asked for; else `null`. */
  ask(key: ViewKey): number | null {
    const k = keyText(key);
    if (this.answered === k || this.pending?.text === k) return null;
    this.pending = { id: this.nextId++, key, text: k };
    return this.pending.id;
  }

  /** The request that `id` answers when it is the latest one (which is then answered); `null` for a stale answer. */
  accept(id: number): ViewKey | null {
    const pending = this.pending;
    if (pending?.id !== id) return null;
    this.answered = pending.text;
    this.pending = null;
    return pending.key;
  }
}

function keyText(key: ViewKey): string {
  return JSON.stringify([key.uri, key.sequence, key.factory, key.view, key.expandNested, key.expand ?? null, key.edgeShapes ?? false]);
}
