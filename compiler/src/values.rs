//! Compiling YAML values (input fields, variables) into [`CompiledValue`]s with their static types.
//! Constant parts fold: a value with no `${...}` that reads a run-time slot is one `Constant`.

use std::collections::BTreeSet;
use std::sync::Arc;

use expr_grammar::{Compiled, Program, SlotRef, Type, Value};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::expressions::{self, Parsed, TextForm};
use crate::model::{Spanned, Text, YamlValue};
use crate::plan::CompiledValue;
use crate::preparse::Preparsed;
use crate::scope::{ExprScope, ItemBinding, Names, Position};

/// What the compiler knows from outside the file. Build it with `..CompileOptions::default()` so that fields
/// added later keep their defaults.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Which credentials are stored: `secrets.NAME` and `credential:` naming any other one are warned about
    /// (W0201), unless the store was not checked.
    pub known_credentials: KnownCredentials,
    /// The time a schedule must fire after (a `cron` with no later occurrence is E0506); `None`: the clock's.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// What folding one constant expression may build and do; past it, E0312 at the expression.
    pub budget: expr_grammar::Budget,
}

/// What the caller knows of the credential store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KnownCredentials {
    /// The store was not asked (or could not be read): credential names are not checked.
    #[default]
    Unchecked,
    /// The store was read and holds exactly these credentials, possibly none: every other name is warned about.
    Stored(BTreeSet<String>),
}

impl KnownCredentials {
    /// The stored names, when the store was read.
    pub fn stored(&self) -> Option<&BTreeSet<String>> {
        match self {
            KnownCredentials::Unchecked => None,
            KnownCredentials::Stored(names) => Some(names),
        }
    }
}

/// `None` (not read) is [`KnownCredentials::Unchecked`]; `Some(names)`, even empty, is what the store holds.
impl From<Option<BTreeSet<String>>> for KnownCredentials {
    fn from(names: Option<BTreeSet<String>>) -> Self {
        names.map_or(KnownCredentials::Unchecked, KnownCredentials::Stored)
    }
}

/// Where an expression is, and the `item` it may read.
#[derive(Debug, Clone)]
pub struct Place {
    pub position: Position,
    pub item: Option<ItemBinding>,
}

impl Place {
    pub fn new(position: Position) -> Place {
        Place { position, item: None }
    }
}

/// The state shared by the passes that compile expressions: the symbol table, the slots each compiled piece
/// reads and the diagnostics so far.
pub struct Binder<'o> {
    pub names: Names,
    pub options: &'o CompileOptions,
    pub diagnostics: Vec<Diagnostic>,
    /// Strings parsed ahead of binding (see [`crate::preparse`]).
    pub preparsed: Preparsed,
}

/// A compiled value, its static type and every slot it reads.
#[derive(Debug, Clone)]
pub struct Bound {
    pub value: CompiledValue,
    pub ty: Type,
    pub reads: BTreeSet<SlotRef>,
}

impl Bound {
    fn constant(value: Value, ty: Type) -> Bound {
        Bound { value: CompiledValue::Constant(value), ty, reads: BTreeSet::new() }
    }
}

impl<'o> Binder<'o> {
    pub fn new(names: Names, options: &'o CompileOptions) -> Self {
        Binder { names, options, diagnostics: Vec::new(), preparsed: Preparsed::default() }
    }

    /// Parse and compile one string.
    pub fn compile_text(
        &mut self,
        text: &Text,
        form: TextForm,
        place: &Place,
    ) -> Option<(Compiled, BTreeSet<SlotRef>)> {
        let parsed = match self.preparsed.take(text, form) {
            Some(result) => expressions::report_syntax(text, result, &mut self.diagnostics)?,
            None => expressions::parse_text(text, form, &mut self.diagnostics)?,
        };
        self.declare_secrets(text, &parsed);
        let scope = ExprScope::new(&self.names, place.position, place.item.clone()).with_budget(self.options.budget);
        let compiled = expressions::compile_parsed(text, &parsed, &scope, &mut self.diagnostics)?;
        let compiled = Compiled { program: compiled.program.with_source(&text.value), ..compiled };
        let reads = compiled.program.slots().into_iter().collect();
        Some((compiled, reads))
    }

    /// Allocates a slot for each `secrets.NAME` read, and warns about names not among the known credentials.
    fn declare_secrets(&mut self, text: &Text, parsed: &Parsed) {
        for path in expressions::name_paths(parsed) {
            let [root, name, ..] = path.as_slice() else { continue };
            if root.name != "secrets" {
                continue;
            }
            self.names.secret_slot(&name.name);
            if let Some(known) = self.options.known_credentials.stored()
                && !known.contains(&name.name)
            {
                let span = text.file_span(name.span);
                self.diagnostics.push(unknown_credential(&name.name, span, known, "the run fails unless it is added"));
            }
        }
    }

    /// Compile a YAML value. `expected` lets a literal such as `30s` be read as a duration where one is wanted.
    pub fn compile_value(
        &mut self,
        value: &Spanned<YamlValue>,
        expected: Option<&Type>,
        place: &Place,
    ) -> Option<Bound> {
        match &value.value {
            YamlValue::Null => Some(Bound::constant(Value::Null, Type::Null)),
            YamlValue::Bool(b) => Some(Bound::constant(Value::Bool(*b), Type::Bool)),
            YamlValue::Int(i) => Some(Bound::constant(Value::Int(*i), Type::Int)),
            YamlValue::Float(f) => Some(Bound::constant(Value::Float(*f), Type::Float)),
            YamlValue::String(text) => {
                if expected == Some(&Type::Duration)
                    && let Some(duration) = literal_duration(text)
                {
                    return Some(Bound::constant(Value::Duration(duration), Type::Duration));
                }
                if !text.value.contains("${") {
                    // Plain text (most paths and messages): nothing to parse.
                    return Some(Bound::constant(Value::String(Arc::from(text.value.as_str())), Type::String));
                }
                let (compiled, reads) = self.compile_text(text, TextForm::Template, place)?;
                Some(Bound { value: program_value(compiled.program), ty: compiled.ty, reads })
            }
            YamlValue::List(items) => self.compile_list(items, expected, place),
            YamlValue::Map(mapping) => {
                let entries: Vec<(&str, &Spanned<YamlValue>)> =
                    mapping.iter().map(|entry| (entry.key.value.as_str(), &entry.value)).collect();
                self.compile_object(&entries, expected, place)
            }
        }
    }

    fn compile_list(&mut self, items: &[Spanned<YamlValue>], expected: Option<&Type>, place: &Place) -> Option<Bound> {
        let element_expected = match expected {
            Some(Type::List { of }) => Some(of.as_ref().clone()),
            _ => None,
        };
        let bound: Vec<Option<Bound>> =
            items.iter().map(|item| self.compile_value(item, element_expected.as_ref(), place)).collect();
        let bound: Vec<Bound> = bound.into_iter().collect::<Option<_>>()?;
        let ty = Type::list(unify(bound.iter().map(|b| &b.ty)));
        let reads = bound.iter().flat_map(|b| b.reads.iter().copied()).collect();
        let value = match bound.iter().map(|b| constant_of(&b.value)).collect::<Option<Vec<Value>>>() {
            Some(values) => CompiledValue::Constant(Value::List(Arc::new(values))),
            None => CompiledValue::List(bound.into_iter().map(|b| b.value).collect()),
        };
        Some(Bound { value, ty, reads })
    }

    /// Compile the entries of an object; each field is checked against `expected`'s field type when known.
    pub fn compile_object(
        &mut self,
        entries: &[(&str, &Spanned<YamlValue>)],
        expected: Option<&Type>,
        place: &Place,
    ) -> Option<Bound> {
        let field_type = |name: &str| match expected {
            Some(Type::Object(object)) => object.fields.get(name).cloned(),
            _ => None,
        };
        let mut fields = Vec::with_capacity(entries.len());
        let mut failed = false;
        for (name, value) in entries {
            match self.compile_value(value, field_type(name).as_ref(), place) {
                Some(bound) => fields.push((name.to_string(), bound)),
                None => failed = true,
            }
        }
        if failed {
            return None;
        }
        let ty = Type::object(fields.iter().map(|(name, b)| (name.as_str(), b.ty.clone())));
        let reads = fields.iter().flat_map(|(_, b)| b.reads.iter().copied()).collect();
        let constants: Option<Vec<(String, Value)>> =
            fields.iter().map(|(name, b)| constant_of(&b.value).map(|v| (name.clone(), v))).collect();
        let value = match constants {
            Some(pairs) => CompiledValue::Constant(Value::Object(Arc::new(pairs.into_iter().collect()))),
            None => CompiledValue::Object(fields.into_iter().map(|(name, b)| (name, b.value)).collect()),
        };
        Some(Bound { value, ty, reads })
    }
}

/// The warning for a credential name (`secrets.NAME`, `credential:`) not among the stored ones.
pub fn unknown_credential(name: &str, span: expr_grammar::Span, known: &BTreeSet<String>, label: &str) -> Diagnostic {
    let warning = Diagnostic::warning(codes::UNKNOWN_CREDENTIAL, format!("no stored credential named `{name}`"), span)
        .with_label(label)
        .with_suggestion(name, known.iter().map(String::as_str));
    match warning.hint {
        Some(_) => warning,
        None => {
            warning.with_hint(format!("add it with `pilot credentials set {name} --provider api_key|basic|oauth2`"))
        }
    }
}

/// A program that folded becomes a constant; the executor then has nothing to evaluate.
pub fn program_value(program: Program) -> CompiledValue {
    match program.as_constant() {
        Some(value) => CompiledValue::Constant(value.clone()),
        None => CompiledValue::Program(program),
    }
}

fn constant_of(value: &CompiledValue) -> Option<Value> {
    match value {
        CompiledValue::Constant(value) => Some(value.clone()),
        _ => None,
    }
}

/// `30s`, `5m`, `1h30m` written as plain text, read as the front end reads `timeout:`.
fn literal_duration(text: &Text) -> Option<expr_grammar::Duration> {
    if text.value.contains("${") {
        return None;
    }
    crate::front_end::parse_duration(&text.value)
}

/// The type of a list whose elements have these types: the common one, `float` for mixed numbers, else `any`.
pub fn unify<'a>(types: impl IntoIterator<Item = &'a Type>) -> Type {
    let mut iter = types.into_iter();
    let Some(first) = iter.next() else { return Type::Any };
    let mut common = first.clone();
    for ty in iter {
        common = match (&common, ty) {
            (a, b) if a == b => common,
            (Type::Int | Type::Float, Type::Int | Type::Float) => Type::Float,
            _ => return Type::Any,
        };
    }
    common
}

/// A literal YAML value as a run-time value (input defaults: strings are taken as written).
pub fn literal_value(value: &YamlValue) -> Value {
    match value {
        YamlValue::Null => Value::Null,
        YamlValue::Bool(b) => Value::Bool(*b),
        YamlValue::Int(i) => Value::Int(*i),
        YamlValue::Float(f) => Value::Float(*f),
        YamlValue::String(text) => Value::String(Arc::from(text.value.as_str())),
        YamlValue::List(items) => Value::List(Arc::new(items.iter().map(|item| literal_value(&item.value)).collect())),
        YamlValue::Map(mapping) => Value::Object(Arc::new(
            mapping.iter().map(|entry| (entry.key.value.clone(), literal_value(&entry.value.value))).collect(),
        )),
    }
}

/// An input parameter's default as a value of the parameter's type `ty`: for a `duration` parameter the text
/// `30s` is a duration (checked by `typecheck::check_input_defaults`).
pub fn default_value(value: &YamlValue, ty: &Type) -> Value {
    match (ty, value) {
        (Type::Duration, YamlValue::String(text)) => {
            crate::front_end::parse_duration(&text.value).map_or_else(|| literal_value(value), Value::Duration)
        }
        _ => literal_value(value),
    }
}

/// The static type of a literal value.
pub fn literal_type(value: &YamlValue) -> Type {
    match value {
        YamlValue::Null => Type::Null,
        YamlValue::Bool(_) => Type::Bool,
        YamlValue::Int(_) => Type::Int,
        YamlValue::Float(_) => Type::Float,
        YamlValue::String(_) => Type::String,
        YamlValue::List(items) => {
            let types: Vec<Type> = items.iter().map(|item| literal_type(&item.value)).collect();
            Type::list(unify(types.iter()))
        }
        YamlValue::Map(mapping) => {
            Type::object(mapping.iter().map(|entry| (entry.key.value.as_str(), literal_type(&entry.value.value))))
        }
    }
}
