/**
 * Overlays: nodes coloured by a fact instead of their layer category, with a legend.
 *
 * Numbers (params, MACs, activation memory) fall in five steps on a log scale between
 * the smallest and largest non-zero value drawn; zero and unknown have their own colours.
 * Dtype and trainable are categories. A collapsed group's node takes its group's total
 * (params, MACs and activation bytes summed over its layers). The colours are classes
 * (`nv-ov-*`, themed in preview.css), so nothing is styled inline.
 */

import { formatCount, formatMacs } from "../core/format";
import type { Layer } from "../core/protocol";
import { formatBytes, type GroupIndex } from "./groups";

export type OverlayKind = "category" | "params" | "macs" | "activation" | "dtype" | "trainable";

export const OVERLAY_CHOICES: readonly { kind: OverlayKind; label: string }[] = [
  { kind: "category", label: "Layer type" },
  { kind: "params", label: "Params" },
  { kind: "macs", label: "MACs" },
  { kind: "activation", label: "Activation memory" },
  { kind: "dtype", label: "Dtype" },
  { kind: "trainable", label: "Trainable" },
];

export function isOverlayKind(value: unknown): value is OverlayKind {
  return OVERLAY_CHOICES.some((c) => c.kind === value);
}

export interface LegendEntry {
  className: string;
  label: string;
}

export interface Overlay {
  /** Drawn id -> its colour class. */
  classes: Map<string, string>;
  legend: LegendEntry[];
  /** What the legend is titled. */
  title: string;
}

const STEPS = 5;
const CATEGORIES = 6;

/**
 * The overlay `kind` for the nodes drawn (`drawn`: ids to their layer, a collapsed group's
 * synthetic one included). `macs`: MACs per layer id, when the server has counted them.
 */
export function computeOverlay(
  kind: OverlayKind, drawn: Map<string, Layer>, groups: GroupIndex | null, macs: Record<string, number | null> | null,
): Overlay {
  const title = OVERLAY_CHOICES.find((c) => c.kind === kind)?.label ?? kind;
  if (kind === "category") return { classes: new Map(), legend: [], title };
  if (kind === "dtype" || kind === "trainable") {
    const values = new Map<string, string>();
    for (const [id, layer] of drawn) {
      values.set(id, kind === "dtype" ? layer.dtype ?? "unknown" : layer.trainable ? "trainable" : "frozen");
    }
    const order = kind === "trainable" ? ["trainable", "frozen"] : [...new Set(values.values())].sort();
    const classOf = new Map(order.map((v, i) => [v, v === "unknown" ? "nv-ov-none" : `nv-ov-c${i % CATEGORIES}`]));
    return {
      title,
      classes: new Map([...values].map(([id, v]) => [id, classOf.get(v)!])),
      legend: order.map((v) => ({ className: classOf.get(v)!, label: v })),
    };
  }
  const values = new Map<string, number | null>();
  for (const [id, layer] of drawn) values.set(id, numberOf(kind, layer, groups, macs));
  const positive = [...values.values()].filter((v): v is number => v !== null && v > 0);
  const format = kind === "params" ? formatCount : kind === "macs" ? formatMacs : formatBytes;
  const legend: LegendEntry[] = [];
  const classes = new Map<string, string>();
  if (positive.length) {
    const lo = Math.log(Math.min(...positive));
    const hi = Math.log(Math.max(...positive));
    const step = (hi - lo) / STEPS || 1;
    const bucket = (v: number) => Math.min(STEPS - 1, Math.floor((Math.log(v) - lo) / step));
    for (let i = STEPS - 1; i >= 0; i--) {
      const bound = Math.round(Math.exp(lo + Math.max(i, 1) * step));
      legend.push({ className: `nv-ov-s${i}`, label: i === 0 ? `< ${format(bound)}` : `≥ ${format(bound)}` });
    }
    for (const [id, v] of values) if (v !== null && v > 0) classes.set(id, `nv-ov-s${bucket(v)}`);
  }
  if ([...values.values()].some((v) => v === 0)) legend.push({ className: "nv-ov-zero", label: "0" });
  if ([...values.values()].some((v) => v === null)) legend.push({ className: "nv-ov-none", label: "not counted" });
  for (const [id, v] of values) {
    if (v === 0) classes.set(id, "nv-ov-zero");
    if (v === null) classes.set(id, "nv-ov-none");
  }
  return { classes, legend, title };
}

function numberOf(kind: OverlayKind, layer: Layer, groups: GroupIndex | null, macs: Record<string, number | null> | null): number | null {
  if (kind === "params") return layer.params;
  const members = groups?.isGroup(layer.id) ? groups.members(layer.id) : layer.is_model ? null : [layer];
  if (kind === "activation") return layer.activation_bytes ?? null;
  if (!macs) return null;
  if (members === null) return null; // a collapsed nested model: its inner layers are counted, not it
  const counted = members.map((m) => macs[m.id]).filter((v): v is number => typeof v === "number");
  return counted.length ? counted.reduce((a, b) => a + b, 0) : null;
}
