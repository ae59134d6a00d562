// Layout is a pure function of the graph: a quick layered layout on the main thread for the first frame, then
// elkjs's in a Web Worker replaces it. Node sizes are fixed, so neither needs the DOM.
import type { Outline } from './outline';

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 64;

export interface Position {
  x: number;
  y: number;
}
export interface LayoutRequest {
  id: number;
  nodes: Array<{ id: string; width: number; height: number }>;
  edges: Array<{ from: string; to: string }>;
}
export interface LayoutResponse {
  id: number;
  positions: Record<string, Position>;
  error?: string;
}

/** The distinct from -> to pairs between existing nodes. */
export function layoutEdges(graph: Outline): Array<{ from: string; to: string }> {
  const ids = new Set(graph.nodes.map((node) => node.id));
  const seen = new Set<string>();
  const pairs: Array<{ from: string; to: string }> = [];
  for (const edge of graph.edges) {
    const key = `${edge.from}\u0000${edge.to}`;
    if (edge.from === edge.to || !ids.has(edge.from) || !ids.has(edge.to) || seen.has(key)) continue;
    seen.add(key);
    pairs.push({ from: edge.from, to: edge.to });
  }
  return pairs;
}

/** Layers by longest path from the sources (cycles broken by file order); nodes of a layer side by side. */
export function quickLayout(graph: Outline): Record<string, Position> {
  const order = new Map(graph.nodes.map((node, index) => [node.id, index]));
  const incoming = new Map<string, string[]>();
  for (const { from, to } of layoutEdges(graph)) {
    if ((order.get(from) ?? 0) >= (order.get(to) ?? 0) && !from.startsWith('trigger:')) continue;
    incoming.set(to, [...(incoming.get(to) ?? []), from]);
  }
  const layer = new Map<string, number>();
  const depth = (id: string, guard: number): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (guard > graph.nodes.length) return 0;
    const value = Math.max(-1, ...(incoming.get(id) ?? []).map((from) => depth(from, guard + 1))) + 1;
    layer.set(id, value);
    return value;
  };
  const rows = new Map<number, string[]>();
  for (const node of graph.nodes) {
    const row = depth(node.id, 0);
    rows.set(row, [...(rows.get(row) ?? []), node.id]);
  }
  const positions: Record<string, Position> = {};
  for (const [row, ids] of rows) {
    const width = ids.length * (NODE_WIDTH + 32);
    ids.forEach((id, index) => {
      positions[id] = { x: index * (NODE_WIDTH + 32) - width / 2, y: row * (NODE_HEIGHT + 56) };
    });
  }
  return positions;
}

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, (positions: Record<string, Position>) => void>();

/** elkjs's layered layout, computed in a worker. */
export function elkLayout(graph: Outline): Promise<Record<string, Position>> {
  if (!worker) {
    worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (message: MessageEvent<LayoutResponse>) => {
      waiting.get(message.data.id)?.(message.data.positions);
      waiting.delete(message.data.id);
    };
  }
  const id = ++nextId;
  const request: LayoutRequest = {
    id,
    nodes: graph.nodes.map((node) => ({ id: node.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: layoutEdges(graph),
  };
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker!.postMessage(request);
  });
}

/** A key that changes when the layout would: the nodes and the edges, not labels or ranges. */
export function shapeKey(graph: Outline): string {
  return graph.nodes.map((node) => node.id).join(',') + '|' + layoutEdges(graph).map((e) => `${e.from}>${e.to}`).join(',');
}
