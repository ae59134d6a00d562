//! The expression budget: generated expressions that grow their values as fast as the language allows
//! (doubling, `replace` of a text by itself, sharing a list twice, projections, joins), over generated inputs and
//! under a generated budget. Evaluation and constant folding end, every value they give fits the budget, no
//! allocation is more than a small multiple of it, and going over it is an `OverBudget` error: never an abort,
//! never a hang.

use expr_grammar::{
    Budget, CheckErrorKind, EvalContext, EvalErrorKind, Resolution, Scope, SlotRef, Timestamp, Type, Value,
    compile_expression, compile_template, parse_expression, parse_template, value_size,
};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, noting the largest single allocation each thread asks for: evaluation must refuse a
/// value before allocating it, not after.
struct LargestAllocation;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.with(|largest| largest.set(largest.get().max(layout.size())));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.with(|largest| largest.set(largest.get().max(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

/// Runs `work`, returning the largest allocation it made on this thread.
fn largest_allocation(work: impl FnOnce()) -> usize {
    LARGEST.with(|largest| largest.set(0));
    work();
    LARGEST.with(Cell::get)
}

/// The most one allocation may take under `budget`: a value's memory is a few times its budget size (a list
/// element is 24 bytes against 8 counted, an object entry more, and buffers grow by doubling), plus room for
/// the parser and checker.
fn allocation_limit(budget: Budget) -> usize {
    16 * budget.max_value_bytes + 256 * 1024
}

/// `s` is a text, `l` a list of texts, `n` an int, `d` anything (read at run time); `k` is a constant text,
/// folded at compile time like a workflow's constant variable.
struct GrowthScope {
    budget: Budget,
}

impl Scope for GrowthScope {
    fn resolve(&self, path: &[&str]) -> Resolution {
        match path[0] {
            "s" => Resolution::Slot { consumed: 1, slot: SlotRef(0), ty: Type::String },
            "l" => Resolution::Slot { consumed: 1, slot: SlotRef(1), ty: Type::list(Type::String) },
            "n" => Resolution::Slot { consumed: 1, slot: SlotRef(2), ty: Type::Int },
            "d" => Resolution::Slot { consumed: 1, slot: SlotRef(3), ty: Type::Any },
            "k" => Resolution::Constant { consumed: 1, value: Value::from("kakaka") },
            _ => Resolution::Unknown { segment: 0, message: "unknown".into(), suggestions: Vec::new() },
        }
    }

    fn budget(&self) -> Budget {
        self.budget
    }
}

#[derive(Debug)]
struct Inputs {
    slots: [Value; 4],
    budget: Budget,
}

impl EvalContext for Inputs {
    fn slot(&self, slot: SlotRef) -> &Value {
        &self.slots[slot.0 as usize]
    }

    fn now(&self) -> Timestamp {
        Timestamp(0)
    }

    fn env_var(&self, _name: &str) -> Option<String> {
        None
    }

    fn budget(&self) -> Budget {
        self.budget
    }
}

/// Expressions of type string that grow their inputs.
fn text_expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![Just("s".to_string()), Just("k".to_string()), Just("'ab'".to_string())];
    leaf.prop_recursive(6, 64, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} + {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("replace({a}, 'a', {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("replace({a}, '', {b})")),
            (list_leaf(), inner.clone()).prop_map(|(l, sep)| format!("join({l}, {sep})")),
            inner.clone().prop_map(|a| format!("string([{a}, {a}, {a}])")),
            inner.clone().prop_map(|a| format!("upper({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("if({a} == {b}, {a}, {b} + {a})")),
            inner.clone().prop_map(|a| format!("json({{x: {a}, y: [{a}, {a}]}})")),
        ]
    })
}

fn list_leaf() -> impl Strategy<Value = String> {
    prop_oneof![Just("l".to_string()), Just("split(s, '')".to_string()), Just("['a', k]".to_string())]
}

/// Expressions of any type that share and multiply what they read.
fn expression() -> impl Strategy<Value = String> {
    prop_oneof![
        text_expression(),
        list_leaf(),
        text_expression().prop_map(|a| format!("[{a}, {a}]")),
        text_expression().prop_map(|a| format!("split({a}, '')")),
        (text_expression(), text_expression()).prop_map(|(a, b)| format!("l[*] + {a} + {b}")),
        text_expression().prop_map(|a| format!("flatten([split({a}, 'a'), l, l])")),
        text_expression().prop_map(|a| format!("sort(split({a}, ''))")),
        text_expression().prop_map(|a| format!("len(unique(split({a}, '')))")),
        (text_expression(), text_expression()).prop_map(|(a, b)| format!("{{a: {a}, b: [{b}, {b}]}}")),
        text_expression().prop_map(|a| format!("[[{a}, {a}], [{a}, {a}]][*][*]")),
        text_expression().prop_map(|a| format!("d[*] + [{a}]")),
    ]
}

fn budget() -> impl Strategy<Value = Budget> {
    (8usize..200_000, 1u64..200_000).prop_map(|(max_value_bytes, max_steps)| Budget { max_value_bytes, max_steps })
}

/// Inputs, and the budget raised to hold them if need be: the budget limits what is built, and an expression
/// that only reads an input gives a value as big as the input.
fn inputs(budget: Budget) -> impl Strategy<Value = Inputs> {
    ("[ab]{0,64}", prop::collection::vec("[ab]{0,16}", 0..16), prop::collection::vec("[ab]{0,8}", 0..8)).prop_map(
        move |(text, list, any)| {
            let slots = [
                Value::from(text),
                Value::list(list.into_iter().map(Value::from)),
                Value::Int(3),
                Value::list(any.into_iter().map(Value::from)),
            ];
            let largest = slots.iter().map(value_size).max().unwrap_or(0);
            Inputs { slots, budget: Budget { max_value_bytes: budget.max_value_bytes.max(largest), ..budget } }
        },
    )
}

/// What a compiled program is allowed to end with: a value within the budget, or a clean error.
fn assert_within(result: Result<Value, expr_grammar::EvalError>, budget: Budget, source: &str) {
    match result {
        Ok(value) => {
            let size = value_size(&value);
            assert!(size <= budget.max_value_bytes, "{source}: a {size}-byte value under {budget:?}");
        }
        Err(error) if error.kind == EvalErrorKind::OverBudget => {
            assert!(error.message.contains("expression budget"), "{source}: {}", error.message);
        }
        Err(_) => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn evaluation_stays_within_the_budget(
        (source, inputs) in (expression(), budget()).prop_flat_map(|(source, budget)| (Just(source), inputs(budget)))
    ) {
        let scope = GrowthScope { budget: inputs.budget };
        let expr = parse_expression(&source).map_err(|e| TestCaseError::fail(format!("{source}: {e:?}")))?;
        let largest = largest_allocation(|| match compile_expression(&expr, &scope) {
            Ok(compiled) => {
                if let Some(constant) = compiled.program.as_constant() {
                    let size = value_size(constant);
                    assert!(size <= inputs.budget.max_value_bytes, "{source} folded to {size} bytes");
                }
                assert_within(compiled.program.with_source(&source).eval(&inputs), inputs.budget, &source);
            }
            // Folding over the budget is reported at the expression; other errors are type errors of the
            // generated text (`'ab' == l`), not the budget's business.
            Err(errors) => {
                for error in errors.iter().filter(|e| e.kind == CheckErrorKind::OverBudget) {
                    assert!(error.message.contains("expression budget"), "{}", error.message);
                }
            }
        });
        let limit = allocation_limit(inputs.budget);
        prop_assert!(largest <= limit, "{source}: allocated {largest} bytes at once under {:?}", inputs.budget);
    }

    #[test]
    fn templates_stay_within_the_budget(
        (parts, inputs) in (prop::collection::vec(expression(), 1..4), budget())
            .prop_flat_map(|(parts, budget)| (Just(parts), inputs(budget)))
    ) {
        let source: String = parts.iter().map(|p| format!("<${{{p}}}>")).collect();
        let template = parse_template(&source).map_err(|e| TestCaseError::fail(format!("{source}: {e:?}")))?;
        let largest = largest_allocation(|| {
            if let Ok(compiled) = compile_template(&template, &GrowthScope { budget: inputs.budget }) {
                assert_within(compiled.program.eval(&inputs), inputs.budget, &source);
            }
        });
        prop_assert!(largest <= allocation_limit(inputs.budget), "{source}: allocated {largest} bytes at once");
    }
}

#[test]
fn a_text_replaced_by_itself_four_times_fails_naming_the_expression() {
    let source = "replace(replace(replace(replace(s, 'a', s), 'a', s), 'a', s), 'a', s)";
    let scope = GrowthScope { budget: Budget::default() };
    let compiled = compile_expression(&parse_expression(source).unwrap(), &scope).expect("compiles");
    let inputs = Inputs {
        slots: [Value::from("a".repeat(64)), Value::Null, Value::Null, Value::Null],
        budget: Budget::default(),
    };
    let error = compiled.program.with_source(source).eval(&inputs).expect_err("over the budget");
    assert_eq!(error.kind, EvalErrorKind::OverBudget);
    assert!(error.message.starts_with("in `replace("), "{}", error.message);
    assert!(error.message.contains("`max_value_bytes`"), "{}", error.message);
}

#[test]
fn doubling_a_constant_stops_folding_with_one_error_at_the_expression() {
    let budget = Budget { max_value_bytes: 1000, max_steps: Budget::DEFAULT_MAX_STEPS };
    let doubled = (0..8).fold("k".to_string(), |text, _| format!("({text} + {text})"));
    let errors = compile_expression(&parse_expression(&doubled).unwrap(), &GrowthScope { budget }).expect_err("over");
    assert_eq!(errors.len(), 1, "one error, not one per level: {errors:?}");
    assert_eq!(errors[0].kind, CheckErrorKind::OverBudget);
    assert!(errors[0].message.starts_with("`+` would take"), "{}", errors[0].message);
}

#[test]
fn a_value_shared_at_every_level_is_measured_not_walked() {
    // 100 levels of `[t, t]`: 2^100 uses of one text, held in memory as 100 lists.
    let shared = (0..100).fold(Value::from("x"), |inner, _| Value::list([inner.clone(), inner]));
    let slots = [Value::Null, Value::Null, Value::Null, shared];
    let inputs = Inputs { slots, budget: Budget::default() };
    let scope = GrowthScope { budget: Budget::default() };
    for source in ["[d, d]", "string(d)", "d == d", "'${d}'", "d + d", "sort(d)", "len(d)"] {
        let compiled = compile_expression(&parse_expression(source).unwrap(), &scope).expect("compiles");
        match compiled.program.eval(&inputs) {
            Ok(value) => assert!(value_size(&value) <= Budget::DEFAULT_MAX_VALUE_BYTES, "{source}"),
            Err(error) => assert_eq!(error.kind, EvalErrorKind::OverBudget, "{source}: {}", error.message),
        }
    }
}

#[test]
fn too_many_steps_is_an_error_not_a_hang() {
    let budget = Budget { max_value_bytes: Budget::DEFAULT_MAX_VALUE_BYTES, max_steps: 1_000 };
    let source = "l[*] + l[*] + l[*]";
    let compiled = compile_expression(&parse_expression(source).unwrap(), &GrowthScope { budget }).unwrap();
    let many = Value::list((0..10_000).map(|i| Value::from(i.to_string())));
    let inputs = Inputs { slots: [Value::Null, many, Value::Null, Value::Null], budget };
    let error = compiled.program.eval(&inputs).expect_err("over the step budget");
    assert_eq!(error.kind, EvalErrorKind::OverBudget);
    assert!(error.message.contains("more than 1000 steps"), "{}", error.message);
}
