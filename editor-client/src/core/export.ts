/** The choices "NetViz: Export Diagram…" offers, and the file it suggests. */

import * as path from "node:path";

/** One entry of the format pick: a format of a view (the server's `netviz.export {view, format}`). */
export interface ExportChoice {
  view: "graph" | "keras" | "layered" | "neuron" | "summary";
  format: "svg" | "png" | "pdf" | "dot" | "json" | "md" | "html";
  label: string;
  detail: string;
  /** Save-dialog filter: name -> extensions. */
  filter: Record<string, string[]>;
}

/** The diagram the panel shows, in every format, then the other views the server draws. */
export const EXPORT_CHOICES: readonly ExportChoice[] = [
  { view: "graph", format: "svg", label: "SVG", detail: "The diagram as a vector image, for the web and docs", filter: { "SVG image": ["svg"] } },
  { view: "graph", format: "png", label: "PNG", detail: "The diagram as a bitmap image", filter: { "PNG image": ["png"] } },
  { view: "graph", format: "pdf", label: "PDF", detail: "The diagram as a vector document, for papers", filter: { "PDF document": ["pdf"] } },
  { view: "graph", format: "dot", label: "DOT", detail: "Graphviz source, to restyle and render yourself", filter: { "Graphviz DOT": ["dot", "gv"] } },
  { view: "graph", format: "json", label: "JSON", detail: "The model graph: layers, shapes, params, lines", filter: { JSON: ["json"] } },
  { view: "layered", format: "svg", label: "Layered view (SVG)", detail: "3-D boxes sized by shape, like visualkeras", filter: { "SVG image": ["svg"] } },
  { view: "neuron", format: "svg", label: "Neuron view (SVG)", detail: "Circles per unit, like ANN Visualizer", filter: { "SVG image": ["svg"] } },
  { view: "keras", format: "svg", label: "plot_model view (SVG)", detail: "As keras.utils.plot_model draws it", filter: { "SVG image": ["svg"] } },
  { view: "summary", format: "md", label: "Summary (Markdown)", detail: "model.summary() as a table", filter: { Markdown: ["md"] } },
  { view: "summary", format: "html", label: "Summary (HTML)", detail: "model.summary() as a web page", filter: { HTML: ["html"] } },
];

/**
 * `/x/seed_cnns.py`, `construct_model`, graph svg -> `/x/seed_cnns.construct_model.svg`; other
 * views add their name (`….layered.svg`), as `netviz render` names its files.
 */
export function defaultExportPath(sourceFile: string, factory: string, choice: Pick<ExportChoice, "view" | "format">): string {
  const stem = path.basename(sourceFile, path.extname(sourceFile));
  const suffix = choice.view === "graph" ? choice.format : `${choice.view}.${choice.format}`;
  return path.join(path.dirname(sourceFile), `${stem}.${factory}.${suffix}`);
}
