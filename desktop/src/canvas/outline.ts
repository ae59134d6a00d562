// The graph `POST /api/v1/check` returns as `graph` (compiler/src/outline.rs), typed by the OpenAPI document.
import type { components } from '../api/schema';

type Schemas = components['schemas'];
export type SourcePosition = Schemas['SourcePosition'];
export type SourceRange = Schemas['SourceRange'];
export type NodeKind = Schemas['NodeKind'];
export type OutlineNode = Schemas['OutlineNode'];
export type EdgeReason = Schemas['OutlineEdgeReason'];
export type OutlineEdge = Schemas['OutlineEdge'];
export type Outline = Schemas['Outline'];

export function asOutline(value: unknown): Outline | undefined {
  const graph = value as Outline | null | undefined;
  return graph && Array.isArray(graph.nodes) && Array.isArray(graph.edges) ? graph : undefined;
}

export function edgeId(edge: OutlineEdge): string {
  return `${edge.reason}:${edge.from}->${edge.to}`;
}
