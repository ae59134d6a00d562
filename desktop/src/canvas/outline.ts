// The graph `POST /api/v1/check` returns as `graph` (compiler/src/outline.rs; the OpenAPI document types it as a
// plain object, so its shape is written here, field for field as the compiler serialises it).
export interface SourcePosition {
  line: number;
  column: number;
}
export interface SourceRange {
  start: SourcePosition;
  end: SourcePosition;
}
export type NodeKind = 'trigger' | 'loop' | 'condition' | 'action';
export interface OutlineNode {
  kind: NodeKind;
  id: string;
  index: number;
  range: SourceRange;
  type: string | null;
  summary: string | null;
  action: string | null;
  connector: string | null;
  condition: string | null;
  loop: string | null;
  output: string | null;
  inputs: string[];
  on_failure: boolean;
}
export type EdgeReason = 'trigger' | 'needs' | 'data' | 'effect';
export interface OutlineEdge {
  from: string;
  to: string;
  reason: EdgeReason;
  label: string;
  editable: boolean;
  range: SourceRange | null;
}
export interface Outline {
  nodes: OutlineNode[];
  edges: OutlineEdge[];
  compiled: boolean;
}

export function asOutline(value: unknown): Outline | undefined {
  const graph = value as Outline | null | undefined;
  return graph && Array.isArray(graph.nodes) && Array.isArray(graph.edges) ? graph : undefined;
}

export function edgeId(edge: OutlineEdge): string {
  return `${edge.reason}:${edge.from}->${edge.to}`;
}
