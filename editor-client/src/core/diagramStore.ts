/**
 * What the panel shows for each file: the latest diagram the server sent, merged
 * with the last good diagram of every factory whose newest build failed.
 *
 * Invariants:
 * - Latest version wins: a `netviz/diagram` for an older document version than the
 *   one held is dropped (the server should never send one; a late message after a
 *   restart could).
 * - A failed build never blanks the panel: the factory keeps its last good diagram,
 *   marked `stale`, next to the error.
 * - A failed factory whose error carries a partial graph (`partials`) gets it as `partial`:
 *   beside its stale diagram, or alone (`partialOnly`) when it never built.
 */

import type {
  BuildError,
  BuildStatusParams,
  DiagramParams,
  FileDiagram,
  ModelView,
  PartialView,
  StatusView,
} from "./protocol";

export class DiagramStore {
  private readonly diagrams = new Map<string, FileDiagram>();
  private readonly statuses = new Map<string, StatusView>();
  private sequence = 0;

  /** Takes in a `netviz/diagram`; returns the file's new state, or `undefined` if the payload was older. */
  applyDiagram(params: DiagramParams): FileDiagram | undefined {
    const previous = this.diagrams.get(params.uri);
    if (previous && isOlder(params.version, previous.version)) return undefined;
    const fresh: ModelView[] = params.models.map((m) => ({
      factory: m.factory, svg: m.svg, graph: m.graph, stale: false, changes: m.changes ?? null,
    }));
    const partials = partialsOf(params);
    const kept = (previous?.models ?? []).filter(
      (old) => !old.partialOnly && !fresh.some((m) => m.factory === old.factory) && failedIn(old.factory, params.errors),
    );
    const stale: ModelView[] = kept.map((m) => ({ ...m, stale: true, partial: partials.get(m.factory) ?? null }));
    const only: ModelView[] = [...partials.values()]
      .filter((p) => !fresh.some((m) => m.factory === p.error.factory) && !kept.some((m) => m.factory === p.error.factory))
      .map((p) => ({ factory: p.error.factory!, svg: null, graph: p.graph, stale: false, partial: p, partialOnly: true }));
    const models = [...fresh, ...stale, ...only].sort(bySource);
    const diagram: FileDiagram = {
      uri: params.uri,
      version: params.version,
      models,
      errors: params.errors,
      elapsedMs: params.elapsed_ms,
      sequence: ++this.sequence,
    };
    this.diagrams.set(params.uri, diagram);
    return diagram;
  }

  /** Takes in a `netviz/buildStatus`. */
  applyStatus(params: BuildStatusParams): StatusView {
    const status = { state: params.state, message: params.message };
    this.statuses.set(params.uri, status);
    return status;
  }

  diagram(uri: string): FileDiagram | undefined {
    return this.diagrams.get(uri);
  }

  status(uri: string): StatusView | undefined {
    return this.statuses.get(uri);
  }

  /** Forget everything about a closed file, or (no argument) about all files, as after a server restart. */
  forget(uri?: string): void {
    if (uri === undefined) {
      this.diagrams.clear();
      this.statuses.clear();
    } else {
      this.diagrams.delete(uri);
      this.statuses.delete(uri);
    }
  }
}

/** Each failed factory's partial graph: `partials[i]` draws the graph of its factory's error. */
function partialsOf(params: DiagramParams): Map<string, PartialView> {
  const found = new Map<string, PartialView>();
  for (const partial of params.partials ?? []) {
    const error = params.errors.find((e) => e.factory === partial.factory && e.graph);
    if (error?.graph && !found.has(partial.factory)) found.set(partial.factory, { svg: partial.svg, graph: error.graph, error });
  }
  return found;
}

/** Versions are `null` when built from disk; those never count as older. */
function isOlder(version: number | null, than: number | null): boolean {
  return version !== null && than !== null && version < than;
}

/**
 * Whether a build's errors say `factory` failed, so its old diagram should stay (stale).
 * A factory that vanished without an error was renamed or deleted: its diagram goes.
 * `arguments` means "needs arguments", not a failure of a model that once built, but
 * keeping its last diagram is still more useful than a blank.
 */
function failedIn(factory: string, errors: BuildError[]): boolean {
  return errors.some((e) => e.factory === factory || e.factory === null || e.factory === undefined);
}

/** Source order: by line in a Python file; in a notebook by cell, then by line within it. */
function bySource(a: ModelView, b: ModelView): number {
  return (a.graph.cell ?? 0) - (b.graph.cell ?? 0) || a.graph.line - b.graph.line;
}
