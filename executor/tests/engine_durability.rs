//! The durability rule, observed from inside an action on the real SQLite store: when a step that changes the
//! world runs, the records of every step before it are already committed (a crash at that moment could not
//! leave its effect without its predecessors' records).

mod common;

use common::Harness;
use executor::store::Status;

/// `s0 -> ... -> s29` (transforms, no effects), a skipped step, then `write`, which has an effect.
fn workflow() -> String {
    let mut yaml = String::from("name: durable\nsteps:\n  - id: s0\n    action: transform\n    input: {v: 1}\n");
    for i in 1..30 {
        yaml.push_str(&format!("  - id: s{i}\n    action: transform\n    input: {{v: \"${{s{}.v + 1}}\"}}\n", i - 1));
    }
    yaml.push_str("  - id: maybe\n    action: transform\n    if: \"${s29.v > 100}\"\n    input: {v: 0}\n");
    yaml.push_str("  - id: write\n    action: probe/observe\n    needs: maybe\n    input: {tag: \"after-${s29.v}\"}\n");
    yaml
}

#[tokio::test]
async fn a_step_with_an_effect_runs_only_after_the_records_before_it_are_committed() {
    for _ in 0..5 {
        let folder = tempfile::tempdir().unwrap();
        let harness = Harness::with_sqlite(folder.path());
        let (outcome, _) = harness.run(&workflow()).await;
        assert_eq!(outcome.status, Status::Success, "{outcome:?}");
        let mut expected: Vec<(String, Status)> = (0..30).map(|i| (format!("s{i}"), Status::Success)).collect();
        expected.push(("maybe".to_string(), Status::Skipped));
        expected.push(("write".to_string(), Status::Running));
        let observed = harness.probe.observed.lock().unwrap().clone();
        assert_eq!(observed, vec![("after-30".to_string(), expected)]);
    }
}

/// `n` steps that each change the world, in file order.
fn effect_chain(steps: usize) -> String {
    let mut yaml = String::from("name: effects\nsteps:\n");
    for i in 0..steps {
        yaml.push_str(&format!("  - id: e{i}\n    action: probe/observe\n    input: {{tag: \"e{i}\"}}\n"));
    }
    yaml
}

#[tokio::test]
async fn a_chain_of_steps_with_effects_costs_one_commit_per_step() {
    const STEPS: u64 = 20;
    let folder = tempfile::tempdir().unwrap();
    let harness = Harness::with_sqlite(folder.path());
    let sqlite = harness.sqlite.clone().expect("a SQLite harness");
    let before = sqlite.commit_count();
    let (outcome, record) = harness.run(&effect_chain(STEPS as usize)).await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    assert!(record.steps.iter().all(|step| step.status == Status::Success), "{record:#?}");
    // Each step's start shares its commit with the end of the step before it. Besides those: saving the
    // workflow, creating the execution, the last step's end and the execution's end.
    let commits = sqlite.commit_count() - before;
    assert!(commits <= STEPS + 4, "{STEPS} steps with effects took {commits} commits");
    // And each step still saw every step before it committed as finished.
    let observed = harness.probe.observed.lock().unwrap().clone();
    for (index, (_, seen)) in observed.iter().enumerate() {
        let finished = seen.iter().filter(|(_, status)| *status == Status::Success).count();
        assert_eq!(finished, index, "step e{index} saw {seen:?}");
    }
}
