/**
 * The model's groups (graph contract `groups[]`) as the panel uses them: which groups a
 * drawing expands, which drawn node stands for a layer hidden in a collapsed group, and
 * what a collapsed group's node says about itself (as `render/collapse.py` computes it).
 *
 * The server draws; this module only decides what to ask for and maps ids. Its rules
 * mirror the server's: with no explicit choice every group is expanded, except in a
 * graph of more than `COLLAPSE_OVER` layers (none is), and `nested` groups follow the
 * "Expand nested" toggle (their node is the nested model's own layer).
 */

import type { Group, Layer, ModelGraph, Shape } from "../core/protocol";

/** Graphs with more layers than this open collapsed to their top-level groups (`collapse.COLLAPSE_OVER`). */
export const COLLAPSE_OVER = 120;

/** What a collapsed group's node is called in the details pane, by kind. */
const KIND_CLASS: Record<string, string> = { block: "Block", repeat: "Repeat", nested: "Model" };

export class GroupIndex {
  readonly byId = new Map<string, Group>();
  private readonly holders = new Map<string, Group[]>();
  private readonly layers: Map<string, Layer>;

  constructor(readonly graph: ModelGraph) {
    this.layers = new Map(graph.layers.map((l) => [l.id, l]));
    for (const group of graph.groups ?? []) {
      this.byId.set(group.id, group);
      for (const id of group.layers) {
        const list = this.holders.get(id) ?? [];
        list.push(group);
        this.holders.set(id, list);
      }
    }
  }

  get hasGroups(): boolean {
    return this.byId.size > 0;
  }

  isGroup(id: string): boolean {
    return this.byId.has(id);
  }

  /** The group and the groups above it, outermost first. */
  chain(id: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    let current: string | null | undefined = id;
    while (current && this.byId.has(current) && !seen.has(current)) {
      seen.add(current);
      out.unshift(current);
      current = this.byId.get(current)!.parent;
    }
    return out;
  }

  /** The groups below `id` (children, grandchildren…). */
  descendants(id: string): string[] {
    const below = new Set<string>();
    let grew = true;
    while (grew) {
      grew = false;
      for (const g of this.byId.values()) {
        if (g.parent && (g.parent === id || below.has(g.parent)) && !below.has(g.id)) {
          below.add(g.id);
          grew = true;
        }
      }
    }
    return [...below];
  }

  /** The groups that hold layer `layerId`, outermost first. */
  holdersOf(layerId: string): Group[] {
    const list = this.holders.get(layerId) ?? [];
    return [...list].sort((a, b) => this.chain(a.id).length - this.chain(b.id).length);
  }

  /** The non-nested groups to expand so that every layer of `layerIds` is drawn as itself. */
  groupsToShow(layerIds: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const id of layerIds) {
      for (const g of this.holdersOf(id)) if (g.kind !== "nested") out.add(g.id);
    }
    return out;
  }

  /** What a drawing expands when nobody chose: every group, none in a big graph; nested ones as the toggle says. */
  defaultExpanded(expandNested: boolean): Set<string> {
    const all = [...this.byId.values()];
    const chosen = this.graph.layers.length > COLLAPSE_OVER ? [] : all.filter((g) => g.kind !== "nested");
    const nested = expandNested ? all.filter((g) => g.kind === "nested") : [];
    return new Set([...chosen, ...nested].map((g) => g.id));
  }

  /** A collapsed group as a layer, for hover, details, search and overlays: `render/collapse.py`'s synthetic layer. */
  groupLayer(group: Group): Layer {
    const members = group.layers.map((id) => this.layers.get(id)).filter((l): l is Layer => !!l);
    const inside = new Set(group.layers);
    const leaving = new Set(this.graph.edges.filter(([s, d]) => inside.has(s) && !inside.has(d)).map(([s]) => s));
    const exits = members.filter((l) => leaving.has(l.id));
    const exit = exits[exits.length - 1] ?? members[members.length - 1];
    const first = members.find((l) => l.line !== null) ?? members[0];
    const leaves = members.filter((l) => !members.some((o) => o.parent === l.id));
    const dtypes = new Set(leaves.map((l) => l.dtype ?? null));
    const sizes = leaves.map((l) => l.activation_bytes);
    return {
      id: group.id,
      name: group.label,
      class_name: KIND_CLASS[group.kind] ?? "Group",
      line: first?.line ?? null,
      call_lines: first ? [...first.call_lines] : [],
      output_shape: (exit?.output_shape ?? null) as Shape | Shape[] | null,
      params: group.params,
      trainable: leaves.some((l) => l.trainable),
      activation: null,
      dtype: dtypes.size === 1 ? [...dtypes][0] : null,
      parent: null,
      trainable_params: leaves.reduce((n, l) => n + (l.trainable_params ?? 0), 0),
      cell: first?.cell ?? null,
      call_cells: first?.call_cells ? [...first.call_cells] : [],
      activation_bytes: sizes.some((s) => s === null || s === undefined) ? null : sizes.reduce<number>((n, s) => n + (s ?? 0), 0),
    };
  }

  /** The layers a group holds, as the graph has them. */
  members(groupId: string): Layer[] {
    return (this.byId.get(groupId)?.layers ?? []).map((id) => this.layers.get(id)).filter((l): l is Layer => !!l);
  }
}

/** The standalone file's key of a set of expanded groups: sorted ids joined by commas ("" for none). */
export function expansionKey(ids: Iterable<string>): string {
  return [...new Set(ids)].sort().join(",");
}

/** `4,064,256 bytes` as `3.9 MiB`. */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n.toLocaleString("en-US")} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
