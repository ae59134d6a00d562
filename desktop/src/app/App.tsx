import { lazy, Suspense } from 'react';
import { ExecutionsPage } from '../executions/ExecutionsPage';
import { WorkflowsPage } from '../workflows/WorkflowsPage';
import { AuthGate } from './AuthGate';
import { href, useRoute } from './router';

// The canvas and the editor load when first opened: the first screen stays small.
const EditorPage = lazy(() => import('../editor/EditorPage'));
const ExecutionPage = lazy(() => import('../executions/ExecutionPage'));

export function App() {
  const route = useRoute();
  const [section, name] = route.parts;
  let page;
  if (section === 'executions' && name) page = <ExecutionPage key={name} id={name} />;
  else if (section === 'executions') page = <ExecutionsPage query={route.query} />;
  else if (section === 'workflows' && name) page = <EditorPage name={name === 'new' ? undefined : name} />;
  else page = <WorkflowsPage />;
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Dooz Pilot</span>
        <nav aria-label="Main">
          <a href={href('workflows')} aria-current={section !== 'executions' ? 'page' : undefined}>
            Workflows
          </a>
          <a href={href('executions')} aria-current={section === 'executions' ? 'page' : undefined}>
            Executions
          </a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="loading">Loading…</p>}>{page}</Suspense>
      </main>
      <AuthGate />
    </div>
  );
}
