//! Compile time of workflows: the spec's seed example and a generated 1,000-step workflow mixing chains,
//! fan-out and fan-in, loops, filters and effect-ordered writes, with expressions in every step.
//!
//! Run: `cargo bench --bench compile -- --warm-up-time 1 --measurement-time 3`

use std::fmt::Write as _;
use std::hint::black_box;

use connectors::catalogue::Catalogue;
use criterion::{Criterion, criterion_group, criterion_main};

const SEED: &str = include_str!("../examples/daily-backup.yaml");

/// A workflow of `count` steps in groups of five: list -> filter -> transform -> get (reads fan out) -> log (a
/// write: the logs keep their order); every 50th step also gathers ten earlier results.
fn generated_workflow(count: usize) -> String {
    let mut yaml = String::from(
        "name: generated\nversion: 1.0.0\ninputs:\n  dir:\n    type: string\n    default: /tmp\nvariables:\n  \
         base: \"${inputs.dir}/data\"\n  host: \"http://127.0.0.1:8080\"\nsteps:\n",
    );
    for i in 0..count {
        let step = match i % 5 {
            0 => format!(
                "  - id: s{i}\n    action: fs/list\n    input:\n      path: \"${{base}}/d{i}\"\n      pattern: \"*.txt\"\n    \
                 output: files{i}\n"
            ),
            1 => format!(
                "  - id: s{i}\n    action: filter\n    input:\n      items: \"${{files{}}}\"\n      condition: \"size > {i} \
                 && modified_at > now() - 1d && name != 'skip'\"\n",
                i - 1
            ),
            2 => format!(
                "  - id: s{i}\n    action: transform\n    input:\n      count: \"${{len(s{}) + {i}}}\"\n      label: \"step \
                 {i} of ${{workflow.name}} in ${{base}}\"\n      names: \"${{s{}[*].name}}\"\n",
                i - 1,
                i - 1
            ),
            3 => format!(
                "  - id: s{i}\n    action: http/get\n    input:\n      url: \"${{host}}/items/${{s{}.count}}\"\n      \
                 timeout: 5s\n",
                i - 1
            ),
            _ => format!(
                "  - id: s{i}\n    action: log\n    input:\n      message: \"${{s{}.label}}: ${{s{}.count}} items, status \
                 ${{s{}.status}}\"\n",
                i - 2,
                i - 2,
                i - 1
            ),
        };
        yaml.push_str(&step);
        if i % 50 == 49 {
            let _ = write!(yaml, "  - id: gather{i}\n    action: transform\n    input:\n      total: \"${{0");
            for k in 0..10 {
                let _ = write!(yaml, " + s{}.count", i - 2 - 5 * k);
            }
            yaml.push_str("}\"\n");
        }
    }
    yaml
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
