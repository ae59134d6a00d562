//! The `names` pass's symbol table ([`Names`]) and the [`Scope`] an expression is compiled in ([`ExprScope`]).
//!
//! Every name an expression can read is a slot in the execution's slot table, or a constant folded in:
//! - a step's result: `steps.ID.output`, `ID`, `ID.OUTPUTNAME` (or `ID.output`) and `OUTPUTNAME` (its `output:`);
//! - variables (a variable reads earlier variables only), `inputs.NAME`, `secrets.NAME`, `trigger.*` (typed from
//!   the declared triggers, [`trigger_type`]),
//!   `execution.id` / `execution.started_at`, `workflow.name|description|version` (constants);
//! - `item` and `index` inside a looping step's inputs and inside an item condition (`filter`'s `condition`),
//!   where bare names are also the element's fields;
//! - an ALL_CAPS bare name is an environment variable (`${HOME}`).
//!
//! Which step results are visible depends on where the expression is ([`Position`]): a step reads only steps
//! above it; `on_failure` steps read every main step, typed `any` because a step that did not run is null.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use expr_grammar::{Budget, Resolution, Scope, SlotRef, Type, Value};

use crate::plan::{SlotInfo, SlotKind, TriggerKind};

/// The names no variable, step or output may take: they start the built-in paths.
pub const RESERVED_NAMES: [&str; 8] =
    ["steps", "inputs", "trigger", "workflow", "execution", "secrets", "item", "index"];

/// A declared variable.
#[derive(Debug, Clone)]
pub struct VariableName {
    pub name: String,
    pub slot: SlotRef,
    /// Known once the variable is compiled; `any` when it failed to compile.
    pub ty: Option<Type>,
    /// Its value, when it folded to a constant: readers fold it in too.
    pub constant: Option<Value>,
}

/// Whether a step is a main step or an `on_failure` one, with its index in that list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepPhase {
    Main(usize),
    OnFailure(usize),
}

#[derive(Debug, Clone)]
pub struct StepName {
    pub id: String,
    pub output_name: Option<String>,
    pub phase: StepPhase,
    pub slot: SlotRef,
    /// Known once the step is compiled; `any` when it failed to compile.
    pub ty: Option<Type>,
}

/// Every declared name of a workflow and the slot table being laid out.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub slots: Vec<SlotInfo>,
    pub variables: Vec<VariableName>,
    variable_index: HashMap<String, usize>,
    pub inputs: Vec<(String, SlotRef, Type)>,
    pub steps: Vec<StepName>,
    step_index: HashMap<String, usize>,
    output_index: HashMap<String, usize>,
    secrets: HashMap<String, SlotRef>,
    trigger: Option<SlotRef>,
    execution: Option<SlotRef>,
    workflow: Vec<(&'static str, Value)>,
}

/// The type of `execution`: what the executor fills in when an execution starts.
pub fn execution_type() -> Type {
    Type::object([("id", Type::String), ("started_at", Type::Timestamp)])
}

/// The fields each kind of trigger puts in `trigger` at run time, besides `type` (its kind's name). A manual
/// run has nothing more.
pub fn trigger_fields(kind: TriggerKind) -> Vec<(&'static str, Type)> {
    let texts = || Type::open_object([]);
    match kind {
        TriggerKind::Webhook => vec![
            ("body", Type::Any),
            // Header and query values are strings; the type language has no map type, so they read as `any`.
            ("headers", texts()),
            ("query", texts()),
            ("method", Type::String),
            ("path", Type::String),
        ],
        // `late`: a missed slot run at start (catch-up). `timezone` is null without one: `any`.
        TriggerKind::Schedule => vec![
            ("scheduled_at", Type::Timestamp),
            ("cron", Type::String),
            ("timezone", Type::Any),
            ("late", Type::Bool),
        ],
        TriggerKind::FileWatch => vec![(
            "event",
            // `from` is the old path of a `rename`, null otherwise: with no nullable types, `any`.
            Type::object([("path", Type::String), ("kind", Type::String), ("from", Type::Any)]),
        )],
        TriggerKind::Manual => Vec::new(),
    }
}

/// The distinct kinds of `triggers`, sorted; none declared means manual only.
pub fn declared_trigger_kinds(triggers: impl IntoIterator<Item = TriggerKind>) -> Vec<TriggerKind> {
    let mut kinds: Vec<TriggerKind> = triggers.into_iter().collect();
    kinds.sort_unstable();
    kinds.dedup();
    if kinds.is_empty() {
        kinds.push(TriggerKind::Manual);
    }
    kinds
}

/// The static type of `trigger` in a workflow started by `kinds`: a closed object (so `trigger.bdy` is an
/// unknown field), with `type: string` and the union of the kinds' fields. A field every kind gives keeps its
/// type; one only some give may be null at run time, and the type language has no nullable types, so it is
/// `any`.
pub fn trigger_type(kinds: &[TriggerKind]) -> Type {
    let mut fields: BTreeMap<&'static str, (Type, usize)> = BTreeMap::new();
    for &kind in kinds {
        for (name, ty) in trigger_fields(kind) {
            let entry = fields.entry(name).or_insert((ty.clone(), 0));
            if entry.0 != ty {
                entry.0 = Type::Any;
            }
            entry.1 += 1;
        }
    }
    let fields =
        fields.into_iter().map(|(name, (ty, count))| (name, if count == kinds.len() { ty } else { Type::Any }));
    Type::object(std::iter::once(("type", Type::String)).chain(fields))
}

/// Every field any of `kinds` gives, with its own type (for reading trigger data, not for checking).
pub fn trigger_data_type(kinds: &[TriggerKind]) -> Type {
    let fields = kinds.iter().flat_map(|&kind| trigger_fields(kind));
    Type::object(std::iter::once(("type", Type::String)).chain(fields))
}

impl Names {
    /// `trigger` is the type of the run's trigger data ([`trigger_type`]).
    pub fn new(workflow: Vec<(&'static str, Value)>, trigger: Type) -> Names {
        let mut names = Names { workflow, ..Names::default() };
        names.trigger = Some(names.allocate(SlotKind::Trigger, trigger));
        names.execution = Some(names.allocate(SlotKind::Execution, execution_type()));
        names
    }

    pub fn allocate(&mut self, kind: SlotKind, ty: Type) -> SlotRef {
        self.slots.push(SlotInfo { kind, ty });
        SlotRef((self.slots.len() - 1) as u32)
    }

    pub fn declare_variable(&mut self, name: &str) -> SlotRef {
        let slot = self.allocate(SlotKind::Variable { name: name.to_string() }, Type::Any);
        self.variable_index.entry(name.to_string()).or_insert(self.variables.len());
        self.variables.push(VariableName { name: name.to_string(), slot, ty: None, constant: None });
        slot
    }

    pub fn declare_input(&mut self, name: &str, ty: Type) -> SlotRef {
        let slot = self.allocate(SlotKind::Input { name: name.to_string() }, ty.clone());
        self.inputs.push((name.to_string(), slot, ty));
        slot
    }

    pub fn declare_step(&mut self, id: &str, output_name: Option<&str>, phase: StepPhase) -> SlotRef {
        let slot = self.allocate(SlotKind::StepOutput { step: id.to_string() }, Type::Any);
        // A duplicate id or output name keeps resolving to its first step (the duplicate is an error anyway).
        let index = self.steps.len();
        self.step_index.entry(id.to_string()).or_insert(index);
        if let Some(output) = output_name {
            self.output_index.entry(output.to_string()).or_insert(index);
        }
        self.steps.push(StepName {
            id: id.to_string(),
            output_name: output_name.map(str::to_string),
            phase,
            slot,
            ty: None,
        });
        slot
    }

    /// The slot of `secrets.NAME`, allocated on first use.
    pub fn secret_slot(&mut self, name: &str) -> SlotRef {
        if let Some(&slot) = self.secrets.get(name) {
            return slot;
        }
        let slot = self.allocate(SlotKind::Secret { name: name.to_string() }, Type::String);
        self.secrets.insert(name.to_string(), slot);
        slot
    }

    pub fn set_variable(&mut self, index: usize, ty: Type, constant: Option<Value>) {
        let slot = self.variables[index].slot;
        self.slots[slot.0 as usize].ty = ty.clone();
        self.variables[index].ty = Some(ty);
        self.variables[index].constant = constant;
    }

    pub fn set_step_type(&mut self, index: usize, ty: Type) {
        let slot = self.steps[index].slot;
        self.slots[slot.0 as usize].ty = ty.clone();
        self.steps[index].ty = Some(ty);
    }

    pub fn step(&self, id: &str) -> Option<(usize, &StepName)> {
        self.step_index.get(id).map(|&i| (i, &self.steps[i]))
    }

    pub fn variable(&self, name: &str) -> Option<(usize, &VariableName)> {
        self.variable_index.get(name).map(|&i| (i, &self.variables[i]))
    }

    /// Which step's result a slot holds, if it holds one: slot reads become DAG edges.
    pub fn step_of_slot(&self, slot: SlotRef) -> Option<usize> {
        match &self.slots.get(slot.0 as usize)?.kind {
            SlotKind::StepOutput { step } => self.step_index.get(step).copied(),
            _ => None,
        }
    }
}

/// Where an expression sits: it decides which variables and steps are visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// In variable `i`'s value: earlier variables only, no step results.
    Variable(usize),
    /// In a step (index into [`Names::steps`]).
    Step(usize),
}

/// `item` and `index` of a loop or an item condition.
#[derive(Debug, Clone)]
pub struct ItemBinding {
    pub item: SlotRef,
    pub index: SlotRef,
    pub element: Type,
    /// In an item condition bare names are the element's fields (`modified_at` is `item.modified_at`).
    pub bare_fields: bool,
}

/// A resolution failure the compiler reports under its own code rather than the generic unknown-name one.
#[derive(Debug, Clone)]
pub struct ScopeNote {
    pub message: String,
    pub code: &'static str,
}

/// The scope one expression is compiled in.
pub struct ExprScope<'a> {
    pub names: &'a Names,
    pub position: Position,
    pub item: Option<ItemBinding>,
    notes: RefCell<Vec<ScopeNote>>,
    budget: Budget,
}

impl<'a> ExprScope<'a> {
    pub fn new(names: &'a Names, position: Position, item: Option<ItemBinding>) -> Self {
        ExprScope { names, position, item, notes: RefCell::new(Vec::new()), budget: Budget::default() }
    }

    /// The scope, folding constants under `budget`.
    pub fn with_budget(self, budget: Budget) -> Self {
        ExprScope { budget, ..self }
    }

    /// The code a failure with this message should carry, when it is one of the specific ones.
    pub fn code_for(&self, message: &str) -> Option<&'static str> {
        self.notes.borrow().iter().find(|note| note.message == message).map(|note| note.code)
    }

    fn unknown(&self, segment: usize, message: String, suggestions: Vec<String>) -> Resolution {
        Resolution::Unknown { segment, message, suggestions }
    }

    fn specific(&self, segment: usize, code: &'static str, message: String) -> Resolution {
        self.specific_with(segment, code, message, Vec::new())
    }

    fn specific_with(
        &self,
        segment: usize,
        code: &'static str,
        message: String,
        suggestions: Vec<String>,
    ) -> Resolution {
        self.notes.borrow_mut().push(ScopeNote { message: message.clone(), code });
        Resolution::Unknown { segment, message, suggestions }
    }
}

impl Scope for ExprScope<'_> {
    fn budget(&self) -> Budget {
        self.budget
    }

    fn resolve(&self, path: &[&str]) -> Resolution {
        let Some(&first) = path.first() else {
            return self.unknown(0, "empty name".into(), Vec::new());
        };
        if let Some(binding) = &self.item
            && let Some(resolution) = resolve_item(binding, path)
        {
            return resolution;
        }
        match first {
            "steps" => self.resolve_steps_path(path),
            "inputs" => self.resolve_input(path),
            "secrets" => self.resolve_secret(path),
            "workflow" => self.resolve_workflow(path),
            "trigger" | "execution" => self.resolve_run_info(first),
            "item" | "index" => self.unknown(
                0,
                format!("`{first}` exists only in a looping step's inputs (`loop:`) and in item conditions"),
                Vec::new(),
            ),
            _ => self.resolve_bare(path),
        }
    }
}

/// `item`, `index`, and in item conditions the element's fields.
fn resolve_item(binding: &ItemBinding, path: &[&str]) -> Option<Resolution> {
    match path[0] {
        "item" => Some(Resolution::Slot { consumed: 1, slot: binding.item, ty: binding.element.clone() }),
        "index" => Some(Resolution::Slot { consumed: 1, slot: binding.index, ty: Type::Int }),
        field if binding.bare_fields && element_has_field(&binding.element, field) => {
            Some(Resolution::Slot { consumed: 0, slot: binding.item, ty: binding.element.clone() })
        }
        _ => None,
    }
}

fn element_has_field(element: &Type, field: &str) -> bool {
    matches!(element, Type::Object(object) if object.fields.contains_key(field))
}

/// Whether a bare name may be a field of an element whose fields are not all known.
fn element_may_have_field(element: &Type) -> bool {
    match element {
        Type::Any => true,
        Type::Object(object) => object.open,
        _ => false,
    }
}

/// The candidates close enough to `wrong` to be a likely typo, best first (the expression crate hints the first).
fn ranked(wrong: &str, candidates: Vec<String>) -> Vec<String> {
    expr_grammar::suggest::ranked(wrong, candidates.iter().map(String::as_str))
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// An ALL_CAPS name (`HOME`, `API_TOKEN`): read as an environment variable.
pub(crate) fn is_env_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

impl ExprScope<'_> {
    fn resolve_steps_path(&self, path: &[&str]) -> Resolution {
        let Some(&id) = path.get(1) else {
            return self.unknown(0, "`steps` needs a step id: `steps.ID.output`".into(), Vec::new());
        };
        let Some((index, step)) = self.names.step(id) else {
            return self.specific_with(
                1,
                crate::codes::UNKNOWN_STEP,
                format!("no step named `{id}`"),
                self.visible_step_ids(),
            );
        };
        if let Err(failure) = self.check_step_visible(index, 1) {
            return failure;
        }
        match path.get(2) {
            Some(&"output") => Resolution::Slot { consumed: 3, slot: step.slot, ty: self.step_type(index) },
            Some(other) => self.unknown(
                2,
                format!("a step has no `{other}`; its result is `steps.{id}.output`"),
                vec!["output".to_string()],
            ),
            None => self.unknown(1, format!("write `steps.{id}.output` for the result of step `{id}`"), Vec::new()),
        }
    }

    fn resolve_input(&self, path: &[&str]) -> Resolution {
        let Some(&name) = path.get(1) else {
            return self.unknown(0, "`inputs` needs a parameter name: `inputs.NAME`".into(), Vec::new());
        };
        match self.names.inputs.iter().find(|(input, _, _)| input == name) {
            Some((_, slot, ty)) => Resolution::Slot { consumed: 2, slot: *slot, ty: ty.clone() },
            None => {
                let known = self.names.inputs.iter().map(|(input, _, _)| input.clone()).collect();
                self.unknown(
                    1,
                    format!("no input parameter named `{name}` (declare it under `inputs:`)"),
                    ranked(name, known),
                )
            }
        }
    }

    fn resolve_secret(&self, path: &[&str]) -> Resolution {
        let Some(&name) = path.get(1) else {
            return self.unknown(0, "`secrets` needs a name: `secrets.NAME`".into(), Vec::new());
        };
        match self.names.secrets.get(name) {
            Some(&slot) => Resolution::Slot { consumed: 2, slot, ty: Type::String },
            None => self.unknown(1, format!("secret `{name}` was not declared"), Vec::new()),
        }
    }

    fn resolve_workflow(&self, path: &[&str]) -> Resolution {
        let Some(&field) = path.get(1) else {
            let object = self.names.workflow.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            return Resolution::Constant { consumed: 1, value: Value::Object(std::sync::Arc::new(object)) };
        };
        match self.names.workflow.iter().find(|(name, _)| *name == field) {
            Some((_, value)) => Resolution::Constant { consumed: 2, value: value.clone() },
            None => {
                let known = self.names.workflow.iter().map(|(name, _)| name.to_string()).collect();
                self.unknown(1, format!("`workflow` has no field `{field}`"), ranked(field, known))
            }
        }
    }

    /// `trigger` and `execution`, typed as their slots are.
    fn resolve_run_info(&self, root: &str) -> Resolution {
        let slot = if root == "trigger" { self.names.trigger } else { self.names.execution };
        match slot.and_then(|slot| Some((slot, self.names.slots.get(slot.0 as usize)?))) {
            Some((slot, info)) => Resolution::Slot { consumed: 1, slot, ty: info.ty.clone() },
            None => self.unknown(0, format!("`{root}` is not known here"), Vec::new()),
        }
    }

    /// Variables, step ids, output names, item fields, environment variables.
    fn resolve_bare(&self, path: &[&str]) -> Resolution {
        let name = path[0];
        let declared = self.resolve_declared(path);
        let untyped_item = self.item.as_ref().filter(|b| b.bare_fields && element_may_have_field(&b.element));
        if let Some(binding) = untyped_item {
            // An item whose fields are not known: a declared name wins only when it may be read here, so a
            // field spelled like this step's own id (or a later step's) still reads the item.
            if !matches!(declared, Some(Resolution::Slot { .. } | Resolution::Constant { .. })) {
                return Resolution::Slot { consumed: 0, slot: binding.item, ty: binding.element.clone() };
            }
        }
        if let Some(resolution) = declared {
            return resolution;
        }
        if is_env_var_name(name) {
            return Resolution::EnvVar { name: name.to_string() };
        }
        let message = match &self.item {
            Some(binding) if binding.bare_fields => {
                format!("unknown name `{name}`: not a field of the item ({})", binding.element)
            }
            _ => format!("unknown name `{name}`"),
        };
        self.unknown(0, message, ranked(name, self.visible_bare_names()))
    }

    /// A variable, a step id or an output name, when `path[0]` is one.
    fn resolve_declared(&self, path: &[&str]) -> Option<Resolution> {
        let name = path[0];
        if let Some((index, variable)) = self.names.variable(name) {
            return Some(self.resolve_variable(index, variable));
        }
        if let Some((index, step)) = self.names.step(name) {
            return Some(self.resolve_step_by_id(index, step, path));
        }
        let &index = self.names.output_index.get(name)?;
        Some(match self.check_step_visible(index, 0) {
            Err(failure) => failure,
            Ok(()) => Resolution::Slot { consumed: 1, slot: self.names.steps[index].slot, ty: self.step_type(index) },
        })
    }

    fn resolve_variable(&self, index: usize, variable: &VariableName) -> Resolution {
        if let Position::Variable(current) = self.position {
            if index == current {
                return self.specific(
                    0,
                    crate::codes::SELF_REFERENCE,
                    format!("variable `{}` reads itself", variable.name),
                );
            }
            if index > current {
                let message = format!(
                    "variable `{}` is declared after this one; move it up: a variable reads only earlier ones",
                    variable.name
                );
                return self.specific(0, crate::codes::USED_BEFORE_DEFINED, message);
            }
        }
        match (&variable.constant, &variable.ty) {
            (Some(value), _) => Resolution::Constant { consumed: 1, value: value.clone() },
            (None, ty) => Resolution::Slot { consumed: 1, slot: variable.slot, ty: ty.clone().unwrap_or(Type::Any) },
        }
    }

    /// `ID`, `ID.OUTPUTNAME`, `ID.output`, or `ID.field` on an object result.
    fn resolve_step_by_id(&self, index: usize, step: &StepName, path: &[&str]) -> Resolution {
        if let Err(failure) = self.check_step_visible(index, 0) {
            return failure;
        }
        let ty = self.step_type(index);
        let Some(&second) = path.get(1) else {
            return Resolution::Slot { consumed: 1, slot: step.slot, ty };
        };
        if step.output_name.as_deref() == Some(second) || second == "output" {
            return Resolution::Slot { consumed: 2, slot: step.slot, ty };
        }
        if matches!(ty, Type::Object(_) | Type::Any) {
            return Resolution::Slot { consumed: 1, slot: step.slot, ty };
        }
        let mut suggestions: Vec<String> = step.output_name.iter().cloned().collect();
        suggestions.push("output".into());
        let message = format!("step `{}`'s result is {ty}: it has no field `{second}`", step.id);
        self.unknown(1, message, suggestions)
    }

    /// The declared result type of a visible step; `on_failure` steps see main steps as `any` (maybe null).
    fn step_type(&self, index: usize) -> Type {
        let step = &self.names.steps[index];
        let reader_is_on_failure = matches!(self.position, Position::Step(reader)
            if matches!(self.names.steps[reader].phase, StepPhase::OnFailure(_)));
        if reader_is_on_failure && matches!(step.phase, StepPhase::Main(_)) {
            return Type::Any;
        }
        step.ty.clone().unwrap_or(Type::Any)
    }

    /// Whether the expression may read step `index`; the failure names the segment to underline.
    fn check_step_visible(&self, index: usize, segment: usize) -> Result<(), Resolution> {
        let target = &self.names.steps[index];
        let id = &target.id;
        match self.position {
            Position::Variable(_) => Err(self.specific(
                segment,
                crate::codes::STEP_IN_VARIABLE,
                format!("variables are computed before any step runs, so they cannot read step `{id}`"),
            )),
            Position::Step(reader) => self.check_step_order(reader, index, segment),
        }
    }

    fn check_step_order(&self, reader: usize, target: usize, segment: usize) -> Result<(), Resolution> {
        let id = &self.names.steps[target].id;
        let reader_phase = self.names.steps[reader].phase;
        let target_phase = self.names.steps[target].phase;
        if reader == target {
            let message = format!("step `{id}` reads its own result");
            return Err(self.specific(segment, crate::codes::SELF_REFERENCE, message));
        }
        match (reader_phase, target_phase) {
            (StepPhase::Main(_), StepPhase::OnFailure(_)) => Err(self.specific(
                segment,
                crate::codes::USED_BEFORE_DEFINED,
                format!("`{id}` is an `on_failure` step: it runs only when the execution fails"),
            )),
            (StepPhase::Main(r), StepPhase::Main(t)) | (StepPhase::OnFailure(r), StepPhase::OnFailure(t)) if t > r => {
                let reader_id = &self.names.steps[reader].id;
                let message = format!("`{id}` runs after this step; move it up or move `{reader_id}` below it");
                Err(self.specific(segment, crate::codes::USED_BEFORE_DEFINED, message))
            }
            _ => Ok(()),
        }
    }

    fn visible_step_ids(&self) -> Vec<String> {
        match self.position {
            Position::Step(reader) => (0..self.names.steps.len())
                .filter(|&i| self.check_step_order_silently(reader, i))
                .map(|i| self.names.steps[i].id.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    fn check_step_order_silently(&self, reader: usize, target: usize) -> bool {
        let (r, t) = (self.names.steps[reader].phase, self.names.steps[target].phase);
        match (r, t) {
            (StepPhase::Main(r), StepPhase::Main(t)) | (StepPhase::OnFailure(r), StepPhase::OnFailure(t)) => t < r,
            (StepPhase::OnFailure(_), StepPhase::Main(_)) => true,
            (StepPhase::Main(_), StepPhase::OnFailure(_)) => false,
        }
    }

    /// Every bare name that would resolve here, for "did you mean".
    fn visible_bare_names(&self) -> Vec<String> {
        let mut names: Vec<String> = RESERVED_NAMES.iter().map(|s| s.to_string()).collect();
        let variable_limit = match self.position {
            Position::Variable(current) => current,
            _ => self.names.variables.len(),
        };
        names.extend(self.names.variables[..variable_limit].iter().map(|v| v.name.clone()));
        for id in self.visible_step_ids() {
            if let Some((_, step)) = self.names.step(&id) {
                names.extend(step.output_name.iter().cloned());
            }
            names.push(id);
        }
        if let Some(ItemBinding { element: Type::Object(object), bare_fields: true, .. }) = &self.item {
            names.extend(object.fields.keys().cloned());
        }
        names
    }
}
