//! The `names` and `types` passes, run together per expression (the expression compiler resolves a name and
//! types it in one walk): variables, input defaults, then every step in file order (`on_failure` last). Each
//! input value is checked against its action's signature; each step's result type is derived from its action's
//! output spec and becomes visible to the steps below it.

use std::collections::BTreeSet;

use connectors::{ActionDefinition, InputField, InputKind, OutputSpec};
use expr_grammar::{Program, SlotRef, Type};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::expressions::TextForm;
use crate::front_end::duration_problem;
use crate::model::{InputParam, Spanned, Step, Workflow, YamlValue};
use crate::plan::{CompiledValue, LoopPlan, SlotKind};
use crate::scope::{ItemBinding, Position};
use crate::values::{Binder, Bound, Place, literal_type};

/// A step after its expressions are compiled.
#[derive(Debug, Clone)]
pub struct BoundStep {
    pub input: Vec<(String, CompiledValue)>,
    /// The static type of each given input, for `pilot compile --emit json`.
    pub input_types: Vec<(String, Type, BTreeSet<SlotRef>)>,
    pub looping: Option<LoopPlan>,
    pub condition: Option<Program>,
    pub output_type: Type,
    /// Every slot the step reads (loop list, `if:`, inputs): step-output slots become DAG edges.
    pub reads: BTreeSet<SlotRef>,
}

/// Compile the variables in order; each becomes visible (folded when constant) to the ones below it.
pub fn bind_variables(binder: &mut Binder<'_>, workflow: &Workflow) -> Vec<Option<Bound>> {
    let Some(variables) = &workflow.variables else { return Vec::new() };
    let mut bound = Vec::with_capacity(variables.len());
    for (index, entry) in variables.iter().enumerate() {
        let place = Place::new(Position::Variable(index));
        let result = binder.compile_value(&entry.value, None, &place);
        let (ty, constant) = match &result {
            Some(Bound { value: CompiledValue::Constant(value), ty, .. }) => (ty.clone(), Some(value.clone())),
            Some(b) => (b.ty.clone(), None),
            None => (Type::Any, None),
        };
        binder.names.set_variable(index, ty, constant);
        bound.push(result);
    }
    bound
}

/// Each input parameter's default must have the parameter's type.
pub fn check_input_defaults(workflow: &Workflow, diagnostics: &mut Vec<Diagnostic>) {
    let Some(inputs) = &workflow.inputs else { return };
    for entry in inputs.iter() {
        let param: &InputParam = &entry.value;
        let Some(default) = &param.default else { continue };
        let want = param.ty.value.to_type();
        if want == Type::Duration {
            check_duration_default(&entry.key.value, default, diagnostics);
            continue;
        }
        let have = literal_type(&default.value);
        if !have.is_assignable_to(&want) && !matches!(default.value, YamlValue::Null) {
            diagnostics.push(
                Diagnostic::error(
                    codes::INPUT_TYPE_MISMATCH,
                    format!("the default of input `{}` is {have}, not {want}", entry.key.value),
                    default.span,
                )
                .with_label(format!("expected {want}")),
            );
        }
    }
}

/// A duration parameter's default is written like `timeout:`, as text with a unit (`30s`); a bare number is
/// refused for the same reason (seconds or milliseconds?).
fn check_duration_default(name: &str, default: &Spanned<YamlValue>, diagnostics: &mut Vec<Diagnostic>) {
    let place = format!("the default of input `{name}`");
    let problem = match &default.value {
        YamlValue::Null => None,
        YamlValue::String(text) => duration_problem(&text.value, &place, text.span),
        YamlValue::Int(number) => duration_problem(&number.to_string(), &place, default.span),
        YamlValue::Float(number) => duration_problem(&number.to_string(), &place, default.span),
        other => Some(
            Diagnostic::error(
                codes::INPUT_TYPE_MISMATCH,
                format!("the default of input `{name}` is {}, not duration", literal_type(other)),
                default.span,
            )
            .with_label("expected a duration such as `30s`"),
        ),
    };
    diagnostics.extend(problem);
}

/// Compile step `index` (of [`crate::scope::Names::steps`]) and record its result type for later steps.
pub fn bind_step(
    binder: &mut Binder<'_>,
    index: usize,
    step: &Step,
    definition: Option<&ActionDefinition>,
) -> BoundStep {
    let base = Place::new(Position::Step(index));
    let mut reads = BTreeSet::new();
    let looping = step.looping.as_ref().and_then(|looping| bind_loop(binder, index, step, looping, &mut reads));
    let condition = step.condition.as_ref().and_then(|text| {
        let (compiled, slots) = binder.compile_text(text, TextForm::Expression, &base)?;
        reads.extend(slots);
        require_bool(binder, &compiled.ty, text.span, "`if:`");
        Some(compiled.program)
    });
    let item = match (&looping, &step.looping) {
        (Some(l), _) => Some(ItemBinding {
            item: l.item_slot,
            index: l.index_slot,
            element: binder.names.slots[l.item_slot.0 as usize].ty.clone(),
            bare_fields: false,
        }),
        // The loop was reported; an `any` item keeps its uses from cascading into more errors.
        (None, Some(_)) => Some(item_binding(binder, step, Type::Any, false)),
        (None, None) => None,
    };
    let inner = Place { position: Position::Step(index), item };
    let inputs = bind_inputs(binder, index, step, definition, &inner);
    let mut output_type = output_type(definition, &inputs);
    if looping.is_some() {
        output_type = Type::list(output_type);
    }
    binder.names.set_step_type(index, output_type.clone());
    for (_, bound) in &inputs {
        reads.extend(bound.reads.iter().copied());
    }
    BoundStep {
        input_types: inputs.iter().map(|(name, b)| (name.clone(), b.ty.clone(), b.reads.clone())).collect(),
        input: inputs.into_iter().map(|(name, b)| (name, b.value)).collect(),
        looping,
        condition,
        output_type,
        reads,
    }
}

fn require_bool(binder: &mut Binder<'_>, ty: &Type, span: expr_grammar::Span, what: &str) {
    if !matches!(ty, Type::Bool | Type::Any) {
        binder.diagnostics.push(
            Diagnostic::error(codes::CONDITION_NOT_BOOL, format!("{what} must be a bool, found {ty}"), span)
                .with_label(format!("this is {ty}"))
                .with_hint("compare it to something, e.g. `${len(x) > 0}`"),
        );
    }
}

/// Slots for the `item` and `index` of a loop or an item condition of `step`.
fn item_binding(binder: &mut Binder<'_>, step: &Step, element: Type, bare_fields: bool) -> ItemBinding {
    let id = step.id.value.clone();
    let item = binder.names.allocate(SlotKind::LoopItem { step: id.clone() }, element.clone());
    let index = binder.names.allocate(SlotKind::LoopIndex { step: id }, Type::Int);
    ItemBinding { item, index, element, bare_fields }
}

/// `loop:`: the list must be a list (or `any`, checked at run time); its element type types `item`.
fn bind_loop(
    binder: &mut Binder<'_>,
    index: usize,
    step: &Step,
    looping: &crate::model::Loop,
    reads: &mut BTreeSet<SlotRef>,
) -> Option<LoopPlan> {
    let base = Place::new(Position::Step(index));
    let (compiled, slots) = binder.compile_text(&looping.items, TextForm::Template, &base)?;
    reads.extend(slots);
    let element = match &compiled.ty {
        Type::List { of } => of.as_ref().clone(),
        Type::Any => Type::Any,
        other => {
            let hint = match other {
                Type::String => "a string is one value: loop over a list, such as the output of `fs/list`",
                _ => "`loop:` takes a list, such as `${list_files}` or `${[1, 2, 3]}`",
            };
            binder.diagnostics.push(
                Diagnostic::error(
                    codes::LOOP_NOT_LIST,
                    format!("`loop:` needs a list, found {other}"),
                    looping.items.span,
                )
                .with_label(format!("this is {other}"))
                .with_hint(hint),
            );
            return None;
        }
    };
    let binding = item_binding(binder, step, element, false);
    let (item_slot, index_slot) = (binding.item, binding.index);
    let concurrency = looping.concurrency.as_ref().map_or(1, |c| c.value.max(1) as usize);
    Some(LoopPlan { items: compiled.program, item_slot, index_slot, concurrency })
}

/// The given inputs in file order: values first (an item condition needs its list's type), then conditions.
fn bind_inputs(
    binder: &mut Binder<'_>,
    index: usize,
    step: &Step,
    definition: Option<&ActionDefinition>,
    place: &Place,
) -> Vec<(String, Bound)> {
    let Some(input) = &step.input else { return Vec::new() };
    let field_of = |name: &str| definition.and_then(|d| d.input(name));
    let mut bound: Vec<(usize, String, Bound)> = Vec::new();
    let mut conditions = Vec::new();
    for (position, entry) in input.iter().enumerate() {
        let name = &entry.key.value;
        let field = field_of(name);
        match field.map(|f| &f.kind) {
            Some(InputKind::ItemCondition { items_field }) => conditions.push((position, entry, items_field.clone())),
            Some(InputKind::Value) | None => {
                // Inputs the action does not take were reported by the `inputs` pass.
                if field.is_none() && definition.is_some_and(|d| !d.open_inputs) {
                    continue;
                }
                if let Some(b) = bind_input_value(binder, step, definition, field, name, &entry.value, place) {
                    bound.push((position, name.clone(), b));
                }
            }
        }
    }
    for (position, entry, items_field) in conditions {
        let items_type = bound.iter().find(|(_, name, _)| *name == items_field).map(|(_, _, b)| b.ty.clone());
        if let Some(b) = bind_item_condition(binder, index, step, &entry.value, items_type) {
            bound.push((position, entry.key.value.clone(), b));
        }
    }
    bound.sort_by_key(|(position, _, _)| *position);
    bound.into_iter().map(|(_, name, b)| (name, b)).collect()
}

fn bind_input_value(
    binder: &mut Binder<'_>,
    step: &Step,
    definition: Option<&ActionDefinition>,
    field: Option<&InputField>,
    name: &str,
    value: &Spanned<YamlValue>,
    place: &Place,
) -> Option<Bound> {
    let bound = binder.compile_value(value, field.map(|f| &f.ty), place)?;
    let (Some(field), Some(definition)) = (field, definition) else { return Some(bound) };
    let absent_optional = !field.required && bound.ty == Type::Null;
    if !absent_optional && !bound.ty.is_assignable_to(&field.ty) {
        binder.diagnostics.push(
            Diagnostic::error(
                codes::INPUT_TYPE_MISMATCH,
                format!("input `{name}` of `{}` must be {}, found {}", definition.name, field.ty, bound.ty),
                value.span,
            )
            .with_label(format!("this is {}", bound.ty))
            .with_hint(format!("in step `{}`; signature: {}", step.id.value, definition.signature())),
        );
        return None;
    }
    Some(bound)
}

/// A filter-style condition: evaluated per element of its list, which bare names and `item` read.
fn bind_item_condition(
    binder: &mut Binder<'_>,
    index: usize,
    step: &Step,
    value: &Spanned<YamlValue>,
    items_type: Option<Type>,
) -> Option<Bound> {
    let YamlValue::String(text) = &value.value else {
        binder.diagnostics.push(
            Diagnostic::error(
                codes::CONDITION_NOT_BOOL,
                "a condition is an expression written as a string",
                value.span,
            )
            .with_hint("quote it, e.g. `condition: \"size > 0\"`"),
        );
        return None;
    };
    let element = match items_type {
        Some(Type::List { of }) => *of,
        _ => Type::Any,
    };
    let binding = item_binding(binder, step, element, true);
    let (item_slot, index_slot) = (binding.item, binding.index);
    let condition_place = Place { position: Position::Step(index), item: Some(binding) };
    let (compiled, mut reads) = binder.compile_text(text, TextForm::Expression, &condition_place)?;
    require_bool(binder, &compiled.ty, text.span, "a condition");
    reads.remove(&item_slot);
    reads.remove(&index_slot);
    let value = CompiledValue::Condition { program: compiled.program, item_slot, index_slot };
    Some(Bound { value, ty: Type::Bool, reads })
}

/// The type of a step's result, from its action's output spec.
fn output_type(definition: Option<&ActionDefinition>, inputs: &[(String, Bound)]) -> Type {
    let Some(definition) = definition else { return Type::Any };
    match &definition.output {
        OutputSpec::Fixed { ty } => ty.clone(),
        OutputSpec::SameAsInput { field } => match inputs.iter().find(|(name, _)| name == field) {
            Some((_, bound)) => bound.ty.clone(),
            None => definition.input(field).map_or(Type::Any, |f| f.ty.clone()),
        },
        OutputSpec::InputObject => Type::object(inputs.iter().map(|(name, bound)| (name.as_str(), bound.ty.clone()))),
    }
}
