/**
 * Zoom and pan of the diagram: a CSS transform on the canvas that holds the SVG.
 *
 * The transform is the panel's, not the diagram's: replacing the SVG after a save
 * leaves it alone, which is how zoom and pan survive updates. Coordinates: "host"
 * is the visible viewport element, "content" is the SVG at 100%.
 */

export interface Transform {
  x: number;
  y: number;
  k: number;
}

const MIN_ZOOM = 0.01;
const MAX_ZOOM = 8;
const PADDING = 16;
/** Pointer travel (px) after which a press is a drag, not a click. */
const DRAG_THRESHOLD = 4;

export class Viewport {
  private t: Transform = { x: 0, y: 0, k: 1 };
  private size = { w: 0, h: 0 };
  private drag: { id: number; x: number; y: number; moved: boolean } | null = null;
  private lastDragMoved = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly canvas: HTMLElement,
    private readonly onChange: (t: Transform) => void,
  ) {
    host.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    host.addEventListener("pointerdown", (e) => this.onPointerDown(e));
    host.addEventListener("pointermove", (e) => this.onPointerMove(e));
    host.addEventListener("pointerup", (e) => this.onPointerUp(e));
    host.addEventListener("pointercancel", (e) => this.onPointerUp(e));
  }

  get transform(): Transform {
    return { ...this.t };
  }

  /** The diagram's size at 100%, in CSS pixels. */
  setContentSize(w: number, h: number): void {
    this.size = { w, h };
  }

  set(t: Transform): void {
    this.t = { x: t.x, y: t.y, k: clamp(t.k, MIN_ZOOM, MAX_ZOOM) };
    this.canvas.style.transform = `translate(${this.t.x}px, ${this.t.y}px) scale(${this.t.k})`;
    this.onChange(this.transform);
  }

  /** Zoom by `factor` keeping the host point (`px`, `py`) fixed; the centre by default. */
  zoomBy(factor: number, px = this.host.clientWidth / 2, py = this.host.clientHeight / 2): void {
    const k = clamp(this.t.k * factor, MIN_ZOOM, MAX_ZOOM);
    const ratio = k / this.t.k;
    this.set({ x: px - (px - this.t.x) * ratio, y: py - (py - this.t.y) * ratio, k });
  }

  /** The whole diagram in view, centred, never enlarged past 100%. */
  fit(): void {
    const { w, h } = this.size;
    if (!w || !h) return;
    const k = Math.min(1, (this.host.clientWidth - 2 * PADDING) / w, (this.host.clientHeight - 2 * PADDING) / h);
    this.set({ x: (this.host.clientWidth - w * k) / 2, y: Math.max(PADDING, (this.host.clientHeight - h * k) / 2), k });
  }

  /**
   * The first view of a diagram: its width fits (up to 100%) and it starts at the top,
   * so a deep network reads top-down at a legible size instead of shrinking to a line.
   */
  fitWidth(): void {
    const { w } = this.size;
    if (!w) return;
    const k = Math.max(MIN_ZOOM, Math.min(1, (this.host.clientWidth - 2 * PADDING) / w));
    this.set({ x: (this.host.clientWidth - w * k) / 2, y: PADDING, k });
  }

  /** 100%, keeping the point at the centre of the view where it is. */
  actualSize(): void {
    this.zoomBy(1 / this.t.k);
  }

  /** Pan (never zoom) so the content point (`x`, `y`) is at the centre of the view. */
  centreOn(x: number, y: number): void {
    this.set({ ...this.t, x: this.host.clientWidth / 2 - x * this.t.k, y: this.host.clientHeight / 2 - y * this.t.k });
  }

  /** The view's size in CSS pixels. */
  get hostSize(): { w: number; h: number } {
    return { w: this.host.clientWidth, h: this.host.clientHeight };
  }

  panBy(dx: number, dy: number): void {
    this.set({ ...this.t, x: this.t.x + dx, y: this.t.y + dy });
  }

  /** Pan (never zoom) so the content rectangle is in view, centring it if it was not. */
  reveal(rect: { x: number; y: number; w: number; h: number }): void {
    const { x, y, k } = this.t;
    const left = x + rect.x * k;
    const top = y + rect.y * k;
    const right = left + rect.w * k;
    const bottom = top + rect.h * k;
    const W = this.host.clientWidth;
    const H = this.host.clientHeight;
    if (left >= 0 && top >= 0 && right <= W && bottom <= H) return;
    this.set({ x: W / 2 - (rect.x + rect.w / 2) * k, y: H / 2 - (rect.y + rect.h / 2) * k, k });
  }

  /** True (once) when the pointer press that ended just now was a pan, so its click is not a selection. */
  consumeDrag(): boolean {
    const moved = this.lastDragMoved;
    this.lastDragMoved = false;
    return moved;
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const box = this.host.getBoundingClientRect();
    const perLine = e.deltaMode === 1 ? 0.05 : 0.0015;
    this.zoomBy(Math.exp(-e.deltaY * perLine), e.clientX - box.left, e.clientY - box.top);
  }

  private onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.drag = { id: e.pointerId, x: e.clientX, y: e.clientY, moved: false };
    this.lastDragMoved = false;
  }

  private onPointerMove(e: PointerEvent): void {
    const d = this.drag;
    if (!d || d.id !== e.pointerId) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
    if (!d.moved) {
      d.moved = true;
      this.host.setPointerCapture(e.pointerId);
      this.host.classList.add("nv-panning");
    }
    d.x = e.clientX;
    d.y = e.clientY;
    this.panBy(dx, dy);
  }

  private onPointerUp(e: PointerEvent): void {
    const d = this.drag;
    if (!d || d.id !== e.pointerId) return;
    this.lastDragMoved = d.moved;
    this.drag = null;
    this.host.classList.remove("nv-panning");
    if (this.host.hasPointerCapture(e.pointerId)) this.host.releasePointerCapture(e.pointerId);
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
