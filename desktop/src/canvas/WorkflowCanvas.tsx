import {
  Background,
  type Connection,
  Controls,
  type Edge,
  MarkerType,
  MiniMap,
  type NodeChange,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type FlowNode, nodeTypes, type StepRunState } from './FlowNodes';
import { elkLayout, type Position, quickLayout, shapeKey } from './layout';
import { edgeId, type Outline, type OutlineEdge } from './outline';

export interface CanvasProps {
  graph: Outline | undefined;
  stale?: boolean;
  errorsByNode?: Map<string, string[]>;
  runStates?: Record<string, StepRunState>;
  selectedNode?: string;
  editable: boolean;
  emptyText?: string;
  onSelectNode?: (id: string | undefined) => void;
  onSelectEdge?: (edge: OutlineEdge) => void;
  onConnect?: (from: string, to: string) => void;
  onDeleteNodes?: (ids: string[]) => void;
  onDeleteEdges?: (edges: OutlineEdge[]) => void;
  onDropAction?: (action: string) => void;
}

const EDGE_STYLE: Record<OutlineEdge['reason'], { stroke: string; dash?: string }> = {
  trigger: { stroke: 'var(--node-trigger)' },
  needs: { stroke: 'var(--node-action)' },
  data: { stroke: 'var(--node-loop)', dash: '6 4' },
  effect: { stroke: 'var(--fg-muted)', dash: '2 4' },
};

function describeEdge(edge: OutlineEdge): string {
  switch (edge.reason) {
    case 'trigger':
      return `${edge.from} starts ${edge.to}`;
    case 'needs':
      return `${edge.to} waits for ${edge.from} (needs)`;
    case 'data':
      return `${edge.to} reads ${edge.label} from ${edge.from}`;
    case 'effect':
      return `${edge.to} comes after ${edge.from} (effect order)`;
  }
}

/** Marks when a layout was first drawn (the browser tests read it to measure the open time). */
function markLaidOut(how: 'quick' | 'elk', nodes: number): void {
  requestAnimationFrame(() => {
    document.documentElement.dataset[how === 'quick' ? 'canvasQuick' : 'canvasElk'] = String(nodes);
    performance.mark(`canvas-${how}`);
  });
}

function Canvas(props: CanvasProps) {
  const { graph, errorsByNode, runStates, editable } = props;
  const flow = useReactFlow();
  const [positions, setPositions] = useState<Record<string, Position>>({});
  const laidOut = useRef<string>('');
  const notified = useRef(false);
  const shape = graph ? shapeKey(graph) : '';

  // Quick layout at once for new nodes, then elk's in the worker; positions of known nodes stay meanwhile.
  useEffect(() => {
    if (!graph || shape === laidOut.current) return;
    laidOut.current = shape;
    const quick = quickLayout(graph);
    setPositions((previous) => {
      const next: Record<string, Position> = {};
      for (const node of graph.nodes) next[node.id] = previous[node.id] ?? quick[node.id];
      return next;
    });
    if (!notified.current) markLaidOut('quick', graph.nodes.length);
    let live = true;
    void elkLayout(graph).then((found) => {
      if (!live || laidOut.current !== shape || Object.keys(found).length === 0) return;
      setPositions(found);
      markLaidOut('elk', graph.nodes.length);
      if (!notified.current) {
        notified.current = true;
        requestAnimationFrame(() => flow.fitView({ padding: 0.15, maxZoom: 1.2 }));
      }
    });
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape]);

  const [dragged, setDragged] = useState<Record<string, Position>>({});
  useEffect(() => setDragged({}), [positions]);

  const nodes: FlowNode[] = useMemo(() => {
    if (!graph) return [];
    return graph.nodes.map((node) => ({
      id: node.id,
      type: 'workflow' as const,
      position: dragged[node.id] ?? positions[node.id] ?? { x: 0, y: 0 },
      data: { node, errors: errorsByNode?.get(node.id) ?? [], run: runStates?.[node.id] },
      selected: props.selectedNode === node.id,
      deletable: editable,
      connectable: editable,
      ariaLabel: `${node.kind} ${node.kind === 'trigger' ? node.type ?? '' : node.id}${node.action ? `, ${node.action}` : ''}`,
    }));
  }, [graph, positions, dragged, errorsByNode, runStates, props.selectedNode, editable]);

  const edges: Edge[] = useMemo(() => {
    if (!graph) return [];
    const ids = new Set(graph.nodes.map((node) => node.id));
    return graph.edges
      .filter((edge) => ids.has(edge.from) && ids.has(edge.to))
      .map((edge) => {
        const style = EDGE_STYLE[edge.reason];
        const showLabel = edge.reason !== 'trigger' || graph.nodes.find((n) => n.id === edge.to)?.kind === 'condition';
        return {
          id: edgeId(edge),
          source: edge.from,
          target: edge.to,
          label: showLabel && edge.reason !== 'needs' ? edge.label : undefined,
          data: { edge },
          className: `edge-${edge.reason}`,
          deletable: editable && edge.editable,
          focusable: true,
          ariaLabel: describeEdge(edge),
          style: { stroke: style.stroke, strokeDasharray: style.dash, strokeWidth: edge.reason === 'needs' ? 2 : 1.5 },
          markerEnd: { type: MarkerType.ArrowClosed, color: style.stroke },
        };
      });
  }, [graph, editable]);

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    const moved = changes.filter((change) => change.type === 'position' && change.position);
    if (moved.length === 0) return;
    setDragged((previous) => {
      const next = { ...previous };
      for (const change of moved) if (change.type === 'position' && change.position) next[change.id] = change.position;
      return next;
    });
  }, []);

  const onConnect = useCallback(
    (connection: Connection) => {
      if (connection.source && connection.target) props.onConnect?.(connection.source, connection.target);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [props.onConnect],
  );

  const onDrop = (event: DragEvent) => {
    const action = event.dataTransfer.getData('application/x-pilot-action');
    if (!action) return;
    event.preventDefault();
    props.onDropAction?.(action);
  };

  const large = (graph?.nodes.length ?? 0) > 80;
  return (
    <div
      className="canvas"
      style={{ height: '100%' }}
      onDragOver={(e) => editable && e.preventDefault()}
      onDrop={onDrop}
      onKeyDown={(event) => {
        // Tab reaches each node; Enter opens the focused one in the inspector.
        const focused = (event.target as HTMLElement).closest<HTMLElement>('.react-flow__node');
        if (event.key === 'Enter' && focused?.dataset.id) props.onSelectNode?.(focused.dataset.id);
      }}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onConnect={editable ? onConnect : undefined}
        onNodeClick={(_, node) => props.onSelectNode?.(node.id)}
        onEdgeClick={(_, edge) => props.onSelectEdge?.((edge.data as { edge: OutlineEdge }).edge)}
        onPaneClick={() => props.onSelectNode?.(undefined)}
        onNodesDelete={(deleted) => props.onDeleteNodes?.(deleted.map((node) => node.id))}
        onEdgesDelete={(deleted) => props.onDeleteEdges?.(deleted.map((edge) => (edge.data as { edge: OutlineEdge }).edge))}
        nodesConnectable={editable}
        nodesFocusable
        edgesFocusable
        deleteKeyCode={editable ? ['Delete', 'Backspace'] : null}
        onlyRenderVisibleElements={large}
        minZoom={0.05}
        maxZoom={2}
        fitView
        proOptions={{ hideAttribution: true }}
        colorMode="system"
      >
        <Background />
        <Controls showInteractive={false} />
        {!large && <MiniMap pannable zoomable nodeColor="#7a8fb8" maskColor="rgb(120 130 150 / 25%)" ariaLabel="Overview of the workflow" />}
      </ReactFlow>
      <div className="legend" aria-label="Edge kinds">
        <span>━ needs (editable)</span>
        <span>┅ data: reads a result</span>
        <span>┈ effect order</span>
        {props.stale && <strong className="error"> · showing the last graph that could be drawn</strong>}
      </div>
      {graph && graph.nodes.length === 0 && props.emptyText && <div className="canvas-empty">{props.emptyText}</div>}
    </div>
  );
}

export function WorkflowCanvas(props: CanvasProps) {
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}
