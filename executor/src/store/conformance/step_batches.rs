//! `record_steps`: step ends and a start written together, all or nothing.

use super::*;

pub async fn ends_and_a_start_recorded_together_apply_in_order(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let _queued = store.start_step(step_start("e1", "a", 1, 2));
    let _queued = store.start_step(step_start("e1", "b", 1, 3));
    let ends = vec![step_end("e1", "a", Status::Success, 1, 4), step_end("e1", "b", Status::Failed, 2, 5)];
    store.record_steps(ends, Some(step_start("e1", "c", 1, 6))).await.expect("record together");
    let steps = load(store, "e1").await.steps;
    let summary: Vec<_> = steps.iter().map(|s| (s.step_id.as_str(), s.status, s.attempts)).collect();
    assert_eq!(summary, [("a", Status::Success, 1), ("b", Status::Failed, 2), ("c", Status::Running, 1)]);
    store.record_steps(vec![step_end("e1", "c", Status::Success, 1, 7)], None).await.expect("an end alone");
    store.record_steps(Vec::new(), None).await.expect("nothing at all");
    let c = load(store, "e1").await.steps.into_iter().find(|s| s.step_id == "c").expect("c recorded");
    assert_eq!((c.status, c.started_at, c.completed_at), (Status::Success, Some(at(6)), Some(at(7))));
    let log = store.read_log("e1").await.expect("read log").expect("logged");
    let (ended_b, started_c) = (log.find("[b] failed after 2 attempts"), log.find("[c] started (attempt 1)"));
    assert!(ended_b.is_some() && started_c.is_some() && ended_b < started_c, "{log}");
}

pub async fn a_refused_record_in_a_batch_records_nothing_of_it(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let good = step_end("e1", "a", Status::Success, 1, 2);
    let not_an_end = step_end("e1", "b", Status::Running, 1, 3);
    let refused = store.record_steps(vec![good.clone(), not_an_end], Some(step_start("e1", "c", 1, 4))).await;
    assert!(matches!(refused, Err(StoreError::Invalid { .. })), "{refused:?}");
    let unknown = store.record_steps(vec![good], Some(step_start("ghost", "c", 1, 4))).await;
    assert_eq!(unknown, Err(StoreError::UnknownExecution { id: "ghost".to_owned() }));
    assert!(load(store, "e1").await.steps.is_empty());
}
