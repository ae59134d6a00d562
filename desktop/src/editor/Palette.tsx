import type { CatalogueAction } from './completion';

function connectorOf(name: string): string {
  return name.includes('/') ? name.split('/')[0] : 'core';
}

/** The actions of the catalogue by connector: click (or Enter) adds a step, or drag one onto the canvas. */
export function Palette({ actions, onAdd, onAddTrigger }: { actions: CatalogueAction[]; onAdd: (action: string) => void; onAddTrigger: (type: string) => void }) {
  const groups = new Map<string, CatalogueAction[]>();
  for (const action of actions) {
    if (action.name.startsWith('notification/')) continue; // the same actions as notify/*
    groups.set(connectorOf(action.name), [...(groups.get(connectorOf(action.name)) ?? []), action]);
  }
  return (
    <nav className="panel palette" aria-label="Palette">
      <h2>Add a step</h2>
      {[...groups].map(([connector, list]) => (
        <details key={connector} open={connector === 'core' || connector === 'fs'}>
          <summary>{connector}</summary>
          {list.map((action) => (
            <button
              key={action.name}
              type="button"
              draggable
              title={action.description}
              data-action={action.name}
              onDragStart={(event) => event.dataTransfer.setData('application/x-pilot-action', action.name)}
              onClick={() => onAdd(action.name)}
            >
              {action.name}
            </button>
          ))}
        </details>
      ))}
      <h2>Add a trigger</h2>
      {['manual', 'schedule', 'webhook', 'file_watch'].map((type) => (
        <button key={type} type="button" data-trigger={type} onClick={() => onAddTrigger(type)}>
          {type}
        </button>
      ))}
    </nav>
  );
}
