//! Expression cost: evaluating a compiled filter condition against one item (target: under 200 ns), and
//! parsing + compiling a typical template.

use criterion::{Criterion, criterion_group, criterion_main};
use expr_grammar::{
    EvalContext, Resolution, Scope, SlotRef, Timestamp, Type, Value, compile_expression, compile_template,
    parse_expression, parse_template,
};
use std::hint::black_box;

/// The allocator the `pilot` binary uses (src/main.rs), so the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ITEM: SlotRef = SlotRef(0);
const FILES: SlotRef = SlotRef(1);
const BACKUP_FOLDER: SlotRef = SlotRef(2);

fn entry_type() -> Type {
    Type::object([
        ("path", Type::String),
        ("name", Type::String),
        ("size", Type::Int),
        ("modified_at", Type::Timestamp),
        ("is_dir", Type::Bool),
    ])
}

/// A filter condition's scope: bare names are fields of the item; `item`, `recent_files`, `backup_folder`.
struct BenchScope;

impl Scope for BenchScope {
    fn resolve(&self, path: &[&str]) -> Resolution {
        match path {
            ["item", ..] => Resolution::Slot { consumed: 1, slot: ITEM, ty: entry_type() },
            ["recent_files", ..] => Resolution::Slot { consumed: 1, slot: FILES, ty: Type::list(entry_type()) },
            ["backup_folder", ..] => Resolution::Slot { consumed: 1, slot: BACKUP_FOLDER, ty: Type::String },
            _ => Resolution::Slot { consumed: 0, slot: ITEM, ty: entry_type() },
        }
    }
}

struct BenchContext {
    slots: Vec<Value>,
    now: Timestamp,
}

impl EvalContext for BenchContext {
    fn slot(&self, slot: SlotRef) -> &Value {
        &self.slots[slot.0 as usize]
    }

    fn now(&self) -> Timestamp {
        self.now
    }

    fn env_var(&self, _name: &str) -> Option<String> {
        None
    }
}

fn context() -> BenchContext {
    let now = Timestamp::parse("2024-05-01T12:00:00Z").expect("valid timestamp");
    let item = Value::object([
        ("path", Value::from("/home/me/Documents/report.docx")),
        ("name", Value::from("report.docx")),
        ("size", Value::from(20_480)),
        ("modified_at", Value::Timestamp(Timestamp(now.0 - 3_600_000_000))),
        ("is_dir", Value::from(false)),
    ]);
    BenchContext { slots: vec![item.clone(), Value::list([item]), Value::from("/backup")], now }
}

const FILTER: &str = "modified_at > now() - 1d";
const TEMPLATE: &str =
    "Backed up ${len(recent_files)} files to ${backup_folder}/${item.name} at ${format(now(), 'HH:mm')}";

fn bench(c: &mut Criterion) {
    let ctx = context();
    let expr = parse_expression(FILTER).expect("filter parses");
    let program = compile_expression(&expr, &BenchScope).expect("filter compiles").program;
    assert_eq!(program.eval(&ctx).expect("filter evaluates"), Value::Bool(true));
    c.bench_function("eval filter `modified_at > now() - 1d`", |b| {
        b.iter(|| program.eval(black_box(&ctx)).expect("evaluates"))
    });
    c.bench_function("parse+compile filter", |b| {
        b.iter(|| {
            let expr = parse_expression(black_box(FILTER)).expect("parses");
            compile_expression(&expr, &BenchScope).expect("compiles")
        })
    });
    c.bench_function("parse+compile template", |b| {
        b.iter(|| {
            let template = parse_template(black_box(TEMPLATE)).expect("parses");
            compile_template(&template, &BenchScope).expect("compiles")
        })
    });
    let template = compile_template(&parse_template(TEMPLATE).expect("parses"), &BenchScope).expect("compiles");
    c.bench_function("eval template", |b| b.iter(|| template.program.eval(black_box(&ctx)).expect("evaluates")));
}

criterion_group!(benches, bench);
criterion_main!(benches);
