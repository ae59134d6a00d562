//! Workflows big enough that the compiler parses their expressions on several threads: the result must be the
//! one a small workflow gets, errors included, each pointing at its own string.

use compiler::Diagnostic;
use connectors::catalogue::Catalogue;

/// `count` steps, each a transform reading the previous one and a filter over a list; the step numbered
/// `broken` gets a syntax error in its template, its `if:` and its filter condition.
fn workflow(count: usize, broken: Option<usize>) -> String {
    let mut yaml = String::from("name: large\nvariables:\n  base: \"${HOME}/data\"\nsteps:\n");
    yaml.push_str("  - id: s0\n    action: transform\n    input:\n      items: \"${[1, 2, 3]}\"\n");
    for i in 1..count {
        let (template, condition, filter) = if broken == Some(i) {
            ("${s0.items +}", "${len(s0.items) >}", "item >> 1")
        } else {
            ("${s0.items}", "${len(s0.items) > 0}", "item > 1")
        };
        yaml.push_str(&format!(
            "  - id: s{i}\n    action: filter\n    if: \"{condition}\"\n    input:\n      items: \"{template}\"\n      \
             condition: \"{filter}\"\n"
        ));
    }
    yaml
}

fn compile(source: &str) -> (bool, Vec<Diagnostic>) {
    let (plan, diagnostics) = compiler::compile(source, "large.yaml", &Catalogue::builtin());
    (plan.is_some(), diagnostics)
}

/// The 1-based line of byte `offset`.
fn line_of(source: &str, offset: u32) -> usize {
    source[..offset as usize].matches('\n').count() + 1
}

#[test]
fn a_large_valid_workflow_compiles_without_diagnostics() {
    let (compiled, diagnostics) = compile(&workflow(300, None));
    assert!(compiled, "{diagnostics:#?}");
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
}

#[test]
fn syntax_errors_in_a_large_workflow_each_point_at_their_own_line() {
    let source = workflow(300, Some(217));
    let (compiled, diagnostics) = compile(&source);
    assert!(!compiled);
    let lines: Vec<usize> = diagnostics.iter().map(|d| line_of(&source, d.primary.span.start)).collect();
    let step_line = source.find("  - id: s217\n").map(|at| line_of(&source, at as u32)).expect("step s217");
    // `if:` is the step's third line, `items:` its fifth, `condition:` its sixth.
    assert_eq!(lines, vec![step_line + 2, step_line + 4, step_line + 5], "{diagnostics:#?}");
}

#[test]
fn a_large_workflow_compiles_to_the_same_plan_each_time() {
    let source = workflow(300, None);
    let first = compiler::compile(&source, "large.yaml", &Catalogue::builtin()).0.expect("compiles");
    let second = compiler::compile(&source, "large.yaml", &Catalogue::builtin()).0.expect("compiles");
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
}

/// Expressions nested as deep as the parser accepts, in a workflow large enough to be parsed on the rayon
/// threads (smaller stacks than the main thread): they compile, and one level more is a diagnostic, never a
/// stack overflow.
#[test]
fn deeply_nested_expressions_parse_on_worker_threads() {
    let depth = expr_grammar::MAX_DEPTH - 1;
    let nested = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    let lists = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let too_deep = format!("{}1{}", "(".repeat(depth + 2), ")".repeat(depth + 2));
    let mut source = workflow(300, None);
    for (id, text) in [("nested", &nested), ("lists", &lists), ("too_deep", &too_deep)] {
        source.push_str(&format!("  - id: {id}\n    action: transform\n    input:\n      v: \"${{{text}}}\"\n"));
    }
    let (compiled, diagnostics) = compile(&source);
    assert!(!compiled);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert!(diagnostics[0].message.contains("nested deeper"), "{diagnostics:#?}");
}
