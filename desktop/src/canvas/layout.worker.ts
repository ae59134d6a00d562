// Lays a workflow graph out with elkjs (layered, top to bottom) off the main thread.
import ELK from 'elkjs/lib/elk.bundled.js';
import type { LayoutRequest, LayoutResponse } from './layout';

const elk = new ELK();

self.onmessage = async (message: MessageEvent<LayoutRequest>) => {
  const { id, nodes, edges } = message.data;
  const graph = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.layered.spacing.nodeNodeBetweenLayers': '56',
      'elk.spacing.nodeNode': '32',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.crossingMinimization.strategy': 'LAYER_SWEEP',
    },
    children: nodes.map((node) => ({ id: node.id, width: node.width, height: node.height })),
    edges: edges.map((edge, index) => ({ id: `e${index}`, sources: [edge.from], targets: [edge.to] })),
  };
  try {
    const result = await elk.layout(graph);
    const positions: LayoutResponse['positions'] = {};
    for (const child of result.children ?? []) positions[child.id] = { x: child.x ?? 0, y: child.y ?? 0 };
    (self as unknown as Worker).postMessage({ id, positions } satisfies LayoutResponse);
  } catch (err) {
    (self as unknown as Worker).postMessage({ id, positions: {}, error: String(err) } satisfies LayoutResponse);
  }
};
