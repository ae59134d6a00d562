import { Handle, type Node, type NodeProps, Position } from '@xyflow/react';
import { memo } from 'react';
import type { OutlineNode } from './outline';

export interface StepRunState {
  status: string;
  duration_ms?: number | null;
  attempts?: number;
  loop?: { done: number; total: number };
}

export type FlowNodeData = {
  node: OutlineNode;
  errors: string[];
  run?: StepRunState;
};
export type FlowNode = Node<FlowNodeData, 'workflow'>;

const KIND_LABEL: Record<OutlineNode['kind'], string> = {
  trigger: 'trigger',
  action: 'action',
  condition: 'condition',
  loop: 'loop',
};

function subtitle(node: OutlineNode): string {
  if (node.kind === 'trigger') return node.summary ?? '';
  if (node.kind === 'condition') return `if ${node.condition ?? ''}`;
  if (node.kind === 'loop') return `for each ${node.loop ?? ''}`;
  return node.output ? `→ ${node.output}` : '';
}

function runText(run: StepRunState): string {
  const parts = [run.status];
  if (run.duration_ms !== undefined && run.duration_ms !== null) parts.push(`${run.duration_ms} ms`);
  if (run.attempts && run.attempts > 1) parts.push(`${run.attempts} attempts`);
  if (run.loop) parts.push(`${run.loop.done}/${run.loop.total} items`);
  return parts.join(' · ');
}

/** One node of the canvas: a trigger, an action, a condition or a loop, each drawn differently. */
export const WorkflowNode = memo(function WorkflowNode({ data }: NodeProps<FlowNode>) {
  const { node, errors, run } = data;
  const title = node.kind === 'trigger' ? node.type ?? 'trigger' : node.id;
  return (
    <div
      className={`node ${node.kind}${errors.length ? ' has-error' : ''}`}
      data-node={node.id}
      data-kind={node.kind}
      data-status={run?.status}
      title={errors.join('\n') || undefined}
    >
      {node.kind !== 'trigger' && <Handle type="target" position={Position.Top} />}
      <div className="kind">
        {KIND_LABEL[node.kind]}
        {node.kind !== 'trigger' && node.action ? ` · ${node.action}` : ''}
        {node.on_failure ? ' · on failure' : ''}
      </div>
      <div className="title">{title}</div>
      {run ? <div className="sub">{runText(run)}</div> : <div className="sub">{subtitle(node)}</div>}
      {errors.length > 0 && <div className="node-error">⚠ {errors[0]}</div>}
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
});

export const nodeTypes = { workflow: WorkflowNode };
