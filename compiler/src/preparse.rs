//! Parsing a workflow's expressions up front, in parallel. pest parsing is the largest part of compiling a big
//! workflow, and each string parses on its own; name resolution and type checks that follow must go in file
//! order. The binder takes results from here and parses anything missing itself, so this is only a cache:
//! it changes how fast a workflow compiles, never what it compiles to.

use std::collections::HashMap;

use connectors::{ActionDefinition, InputKind};
use expr_grammar::SyntaxError;
use rayon::prelude::*;

use crate::expressions::{self, Parsed, TextForm};
use crate::model::{Spanned, Step, Text, Workflow, YamlValue};

/// Below this many strings, parsing on one thread is faster than handing work to the pool.
const PARALLEL_FROM: usize = 64;

type Key = (u32, TextForm);

/// Parse results by the string's position in the file and how it is read.
#[derive(Default)]
pub struct Preparsed(HashMap<Key, Result<Parsed, Vec<SyntaxError>>>);

impl Preparsed {
    /// The result for `text` read as `form`, if it was parsed here (each is handed out once).
    pub fn take(&mut self, text: &Text, form: TextForm) -> Option<Result<Parsed, Vec<SyntaxError>>> {
        self.0.remove(&(text.span.start, form))
    }
}

/// Parse the expressions of the variables and of `steps` (`actions[i]` is step i's action, when known).
pub fn preparse(workflow: &Workflow, steps: &[&Step], actions: &[Option<&ActionDefinition>]) -> Preparsed {
    let mut jobs = Vec::new();
    for entry in workflow.variables.iter().flat_map(|variables| variables.iter()) {
        templates_in(&entry.value, &mut jobs);
    }
    for (step, action) in steps.iter().zip(actions) {
        step_jobs(step, *action, &mut jobs);
    }
    let parse = |(text, form): &(&Text, TextForm)| ((text.span.start, *form), expressions::parse_source(text, *form));
    if jobs.len() < PARALLEL_FROM {
        Preparsed(jobs.iter().map(parse).collect())
    } else {
        Preparsed(jobs.par_iter().map(parse).collect())
    }
}

fn step_jobs<'w>(step: &'w Step, action: Option<&ActionDefinition>, jobs: &mut Vec<(&'w Text, TextForm)>) {
    if let Some(condition) = &step.condition {
        jobs.push((condition, TextForm::Expression));
    }
    if let Some(looping) = &step.looping {
        jobs.push((&looping.items, TextForm::Template));
    }
    for entry in step.input.iter().flat_map(|input| input.iter()) {
        let field = action.and_then(|definition| definition.input(&entry.key.value));
        let is_condition = matches!(field.map(|field| &field.kind), Some(InputKind::ItemCondition { .. }));
        match &entry.value.value {
            YamlValue::String(text) if is_condition => jobs.push((text, TextForm::Expression)),
            _ => templates_in(&entry.value, jobs),
        }
    }
}

/// Every string holding `${` in a YAML value; the binder treats other strings as plain text.
fn templates_in<'w>(value: &'w Spanned<YamlValue>, jobs: &mut Vec<(&'w Text, TextForm)>) {
    match &value.value {
        YamlValue::String(text) if text.value.contains("${") => jobs.push((text, TextForm::Template)),
        YamlValue::List(items) => items.iter().for_each(|item| templates_in(item, jobs)),
        YamlValue::Map(mapping) => mapping.iter().for_each(|entry| templates_in(&entry.value, jobs)),
        _ => {}
    }
}
