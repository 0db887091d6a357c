/**
 * The minimap: a small copy of the diagram in the viewport's corner, with a frame for the
 * part in view. Shown only while the diagram is larger than the view. Clicking or dragging
 * in it centres the view there.
 */

import type { Transform, Viewport } from "./viewport";

const WIDTH = 132;
const MAX_HEIGHT = 240;

export class Minimap {
  private size = { w: 0, h: 0 };
  private scale = 1;
  private dragging: number | null = null;

  constructor(
    private readonly box: HTMLElement,
    private readonly frame: HTMLElement,
    private readonly host: HTMLElement,
    private readonly viewport: Viewport,
  ) {
    box.addEventListener("pointerdown", (e) => {
      e.stopPropagation(); // not a pan of the diagram
      this.dragging = e.pointerId;
      box.setPointerCapture(e.pointerId);
      this.centreAt(e);
    });
    box.addEventListener("pointermove", (e) => {
      if (this.dragging === e.pointerId) this.centreAt(e);
    });
    const stop = (e: PointerEvent) => {
      if (this.dragging !== e.pointerId) return;
      this.dragging = null;
      if (box.hasPointerCapture(e.pointerId)) box.releasePointerCapture(e.pointerId);
    };
    box.addEventListener("pointerup", stop);
    box.addEventListener("pointercancel", stop);
    box.addEventListener("click", (e) => e.stopPropagation());
    box.addEventListener("wheel", (e) => e.stopPropagation());
  }

  /** Copy `svg` (the diagram at `w` × `h` CSS pixels) into the minimap; `null` empties it. */
  show(svg: SVGSVGElement | null, w: number, h: number): void {
    for (const old of Array.from(this.box.querySelectorAll("svg"))) old.remove();
    this.size = { w, h };
    if (!svg || !w || !h) {
      this.box.hidden = true;
      return;
    }
    this.scale = Math.min(WIDTH / w, MAX_HEIGHT / h);
    const copy = svg.cloneNode(true) as SVGSVGElement;
    // The copy's ids would shadow the diagram's (layer ids are the nodes' ids).
    for (const el of Array.from(copy.querySelectorAll("[id]"))) el.removeAttribute("id");
    // Nor does it need the links Graphviz wraps nodes in for their tooltips (or the tooltips).
    for (const a of Array.from(copy.querySelectorAll("a"))) a.replaceWith(...Array.from(a.childNodes));
    for (const title of Array.from(copy.querySelectorAll("title"))) title.remove();
    copy.setAttribute("width", String(w * this.scale));
    copy.setAttribute("height", String(h * this.scale));
    copy.setAttribute("aria-hidden", "true");
    copy.classList.add("nv-minimap-svg");
    this.box.style.width = `${w * this.scale}px`;
    this.box.style.height = `${h * this.scale}px`;
    this.box.insertBefore(copy, this.frame);
  }

  /** Follow the viewport: hide when everything is in view, else frame the part that is. */
  update(t: Transform): void {
    const { w, h } = this.size;
    const W = this.host.clientWidth;
    const H = this.host.clientHeight;
    const fits = !w || !h || (w * t.k <= W + 1 && h * t.k <= H + 1);
    this.box.hidden = fits || h * t.k <= H + 1;
    if (this.box.hidden) return;
    const s = this.scale;
    const left = Math.max(0, -t.x / t.k) * s;
    const top = Math.max(0, -t.y / t.k) * s;
    const right = Math.min(w, (W - t.x) / t.k) * s;
    const bottom = Math.min(h, (H - t.y) / t.k) * s;
    this.frame.style.left = `${left}px`;
    this.frame.style.top = `${top}px`;
    this.frame.style.width = `${Math.max(2, right - left)}px`;
    this.frame.style.height = `${Math.max(2, bottom - top)}px`;
  }

  private centreAt(e: PointerEvent): void {
    const r = this.box.getBoundingClientRect();
    this.viewport.centreOn((e.clientX - r.left) / this.scale, (e.clientY - r.top) / this.scale);
  }
}
