import { describe, expect, it } from 'vitest';
import {
  addStep,
  addTrigger,
  connect,
  deleteStep,
  deleteTrigger,
  disconnect,
  EditRefused,
  freshStepId,
  moveStep,
  setStepField,
  setStepInput,
  setTriggerField,
  setVariable,
} from './workflowEdits';

const WORKFLOW = `# Backs up my documents.
name: backup   # the name the API knows
description: Copy files

triggers:
  - type: schedule
    cron: "0 2 * * *"  # 2 AM daily

variables:
  source: '\${HOME}/Documents'

steps:
  # list what is there
  - id: list
    action: fs/list
    input:
      path: "\${source}"     # keep this comment
      pattern: '*.docx'

  - id: copy
    action: fs/copy
    needs: [list]
    loop: "\${list.files}"
    input: {source: "\${item.path}", destination: /tmp/x}

  - id: tell
    action: log
    input:
      message: done
`;

/** The lines of `after` that are not in `before` (and the reverse), in order. */
function changedLines(before: string, after: string): { added: string[]; removed: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  return { added: b.filter((line) => !a.includes(line)), removed: a.filter((line) => !b.includes(line)) };
}

describe('a canvas edit changes only what it edits', () => {
  it('setting an input keeps every comment and the untouched formatting byte for byte', () => {
    const after = setStepInput(WORKFLOW, 'tell', 'level', 'warn');
    expect(changedLines(WORKFLOW, after)).toEqual({ added: ['      level: warn'], removed: [] });
    expect(after).toContain('name: backup   # the name the API knows');
    expect(after).toContain('cron: "0 2 * * *"  # 2 AM daily');
    expect(after).toContain('path: "${source}"     # keep this comment');
  });

  it('changing a value rewrites that value only, its quoting and comment kept', () => {
    const after = setStepInput(WORKFLOW, 'list', 'path', '${HOME}');
    expect(changedLines(WORKFLOW, after)).toEqual({
      added: ['      path: "${HOME}"     # keep this comment'],
      removed: ['      path: "${source}"     # keep this comment'],
    });
  });

  it('adding a step appends it after the last one with the same indentation', () => {
    const after = addStep(WORKFLOW, { id: 'notify', action: 'notify/desktop', needs: ['tell'], input: { title: 'hi' } });
    expect(after.startsWith(WORKFLOW)).toBe(true);
    expect(after.slice(WORKFLOW.length)).toBe('  - id: notify\n    action: notify/desktop\n    needs: [ tell ]\n    input:\n      title: hi\n');
  });

  it('adding a step to a file without steps creates the list', () => {
    const after = addStep('name: empty # new\n', { id: 'a', action: 'log', input: { message: 'x' } });
    expect(after).toBe('name: empty # new\nsteps:\n  - id: a\n    action: log\n    input:\n      message: x\n');
  });

  it('adding a step under an empty `steps:` writes the list below it', () => {
    const after = addStep('name: x\nsteps:\n', { id: 'a', action: 'log' });
    expect(after).toBe('name: x\nsteps:\n  - id: a\n    action: log\n');
  });

  it('connecting two steps adds a needs entry, written in the style already used', () => {
    const after = connect(WORKFLOW, 'copy', 'tell');
    expect(changedLines(WORKFLOW, after).added).toEqual(['    needs: [ copy ]']);
    const twice = connect(after, 'list', 'tell');
    expect(changedLines(after, twice)).toEqual({ added: ['    needs: [ copy, list ]'], removed: ['    needs: [ copy ]'] });
  });

  it('disconnecting the only needs entry removes the key', () => {
    const after = disconnect(WORKFLOW, 'list', 'copy');
    expect(changedLines(WORKFLOW, after)).toEqual({ added: [], removed: ['    needs: [list]'] });
  });

  it('deleting a step removes its lines and the needs naming it, nothing else', () => {
    const after = deleteStep(WORKFLOW, 'list');
    expect(after).not.toContain('id: list');
    expect(after).not.toContain('needs:');
    expect(after).toContain('# Backs up my documents.');
    expect(after).toContain("input: {source: \"${item.path}\", destination: /tmp/x}");
  });

  it('moving a step moves its text as it was written', () => {
    const after = moveStep(WORKFLOW, 'tell', 0);
    expect(after.indexOf('id: tell')).toBeLessThan(after.indexOf('id: list'));
    expect(after).toContain('    input:\n      message: done\n');
    expect(after).toContain('path: "${source}"     # keep this comment');
    expect(after.split('\n').sort()).toEqual(WORKFLOW.split('\n').sort());
  });

  it('renaming a step renames the needs entries that name it', () => {
    const after = setStepField(WORKFLOW, 'list', 'id', 'find');
    expect(after).toContain('- id: find');
    expect(after).toContain('needs: [ find ]');
  });

  it('a condition is added to one step only', () => {
    const after = setStepField(WORKFLOW, 'tell', 'if', '${len(list.files) > 0}');
    expect(changedLines(WORKFLOW, after)).toEqual({ added: ['    if: ${len(list.files) > 0}'], removed: [] });
  });

  it('triggers and variables are edited in place', () => {
    const cron = setTriggerField(WORKFLOW, 0, 'cron', '0 3 * * *');
    expect(changedLines(WORKFLOW, cron)).toEqual({
      added: ['    cron: "0 3 * * *"  # 2 AM daily'],
      removed: ['    cron: "0 2 * * *"  # 2 AM daily'],
    });
    const hook = addTrigger(WORKFLOW, { type: 'webhook', path: '/backup' });
    expect(changedLines(WORKFLOW, hook).added).toEqual(['  - type: webhook', '    path: /backup']);
    expect(deleteTrigger(hook, 1)).toBe(WORKFLOW);
    const variable = setVariable(WORKFLOW, 'target', '/backups');
    expect(changedLines(WORKFLOW, variable).added).toEqual(['  target: /backups']);
    expect(setVariable(variable, 'target', undefined)).toBe(WORKFLOW);
  });

  it('an edit followed by its inverse gives back the exact text', () => {
    const added = addStep(WORKFLOW, { id: 'extra', action: 'log', input: { message: 'x' } });
    expect(deleteStep(added, 'extra')).toBe(WORKFLOW);
    expect(setStepInput(setStepInput(WORKFLOW, 'tell', 'level', 'warn'), 'tell', 'level', undefined)).toBe(WORKFLOW);
    expect(disconnect(connect(WORKFLOW, 'copy', 'tell'), 'copy', 'tell')).toBe(WORKFLOW);
  });

  it('a text that does not parse is refused with a message saying where to fix it', () => {
    expect(() => addStep('steps: [\n', { id: 'a', action: 'log' })).toThrow(EditRefused);
    expect(() => connect(WORKFLOW, 'nope', 'tell')).toThrow(/no step `nope`/);
  });

  it('fresh ids never collide with existing ones', () => {
    expect(freshStepId(WORKFLOW, 'list')).toBe('list_2');
    expect(freshStepId(WORKFLOW, 'fs/read')).toBe('fs_read');
  });
});
