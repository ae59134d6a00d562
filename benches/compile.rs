//! Compile time of workflows: the spec's seed example and a generated 1,000-step workflow mixing chains,
//! fan-out and fan-in, loops, filters and effect-ordered writes, with expressions in every step.
//!
//! Run: `cargo bench --bench compile -- --warm-up-time 1 --measurement-time 3`

use std::fmt::Write as _;
use std::hint::black_box;

use connectors::catalogue::Catalogue;
use criterion::{Criterion, criterion_group, criterion_main};

/// The allocator the `pilot` binary uses (src/main.rs), so the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEED: &str = include_str!("../examples/daily-backup.yaml");

/// A workflow of `count` steps in groups of ten: list -> filter -> transform, three reads fanning out from
/// it, a transform gathering them, a looping transform under an `if:`, a filter of its results, and a log (a
/// write, which later reads wait for) in every fifth group; every 50th step a transform gathers ten groups.
fn generated_workflow(count: usize) -> String {
    let mut yaml = String::from(
        "name: generated\nversion: 1.0.0\ninputs:\n  dir:\n    type: string\n    default: /tmp\nvariables:\n  \
         base: \"${inputs.dir}/data\"\n  host: \"http://127.0.0.1:8080\"\nsteps:\n",
    );
    for i in 0..count {
        let g = i - i % 10;
        yaml.push_str(&format!("  - id: s{i}\n"));
        yaml.push_str(&group_step(i, g));
        if i % 50 == 49 {
            let _ = write!(yaml, "  - id: gather{i}\n    action: transform\n    input:\n      total: \"${{0");
            for k in 0..5 {
                let _ = write!(yaml, " + s{}.total", g + 6 - 10 * k);
            }
            yaml.push_str("}\"\n");
        }
    }
    yaml
}

/// Step `i` (its `id` line already written) of the group starting at step `g`.
fn group_step(i: usize, g: usize) -> String {
    match i % 10 {
        0 => format!(
            "    action: fs/list\n    input:\n      path: \"${{base}}/d{i}\"\n      pattern: \"*.txt\"\n    output: files{i}\n"
        ),
        1 => format!(
            "    action: filter\n    input:\n      items: \"${{files{g}}}\"\n      condition: \"size > {i} && modified_at > \
             now() - 1d && name != 'skip'\"\n"
        ),
        2 => format!(
            "    action: transform\n    input:\n      count: \"${{len(s{}) + {i}}}\"\n      label: \"step {i} of \
             ${{workflow.name}} in ${{base}}\"\n      names: \"${{s{}[*].name}}\"\n",
            g + 1,
            g + 1
        ),
        3..=5 => format!(
            "    action: http/get\n    input:\n      url: \"${{host}}/items/${{s{}.count}}/{i}\"\n      timeout: 5s\n",
            g + 2
        ),
        6 => format!(
            "    action: transform\n    input:\n      total: \"${{s{}.status + s{}.status + s{}.status}}\"\n      names: \
             \"${{s{}.names}}\"\n",
            g + 3,
            g + 4,
            g + 5,
            g + 2
        ),
        7 => format!(
            "    action: transform\n    if: \"${{s{}.total > 0}}\"\n    loop: \"${{s{}}}\"\n    input:\n      name: \
             \"${{item.name}}\"\n      position: \"${{index}}\"\n",
            g + 6,
            g + 1
        ),
        8 => format!(
            "    action: filter\n    input:\n      items: \"${{s{}}}\"\n      condition: \"position > 2\"\n",
            g + 7
        ),
        _ if g.is_multiple_of(50) => format!(
            "    action: log\n    input:\n      message: \"${{s{}.total}} totals, ${{len(s{})}} kept\"\n",
            g + 6,
            g + 8
        ),
        _ => format!("    action: transform\n    input:\n      kept: \"${{len(s{})}}\"\n", g + 8),
    }
}

fn bench_compile(c: &mut Criterion) {
    let catalogue = Catalogue::builtin();
    let seed_plan = compiler::compile(SEED, "daily-backup.yaml", &catalogue);
    assert!(seed_plan.0.is_some(), "the seed example must compile: {:?}", seed_plan.1);
    c.bench_function("compile seed example", |b| {
        b.iter(|| compiler::compile(black_box(SEED), "daily-backup.yaml", &catalogue))
    });

    let generated = generated_workflow(1_000);
    let (plan, diagnostics) = compiler::compile(&generated, "generated.yaml", &catalogue);
    let plan = plan.unwrap_or_else(|| panic!("the generated workflow must compile: {diagnostics:?}"));
    eprintln!(
        "generated workflow: {} steps, {} edges after reduction, {} levels, {} bytes",
        plan.steps.len(),
        plan.graph.edge_count(),
        plan.levels.len(),
        generated.len()
    );
    c.bench_function("compile 1,000-step workflow", |b| {
        b.iter(|| compiler::compile(black_box(&generated), "generated.yaml", &catalogue))
    });
}

criterion_group!(benches, bench_compile);
criterion_main!(benches);
