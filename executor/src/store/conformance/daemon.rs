//! Conformance cases of the daemon's part of the store: instances and leases, triggers, accepting triggers as
//! queued executions (slots and idempotency keys), taking over orphaned executions.

use super::{at, execution, finish, load, seed_workflow};
use crate::store::*;
use serde_json::json;

fn acceptance(id: &str, trigger_id: Option<&str>, owner: Option<&str>) -> Acceptance {
    let mut new = execution(id, "wf", 10);
    new.status = Status::Pending;
    new.trigger_id = trigger_id.map(str::to_owned);
    new.trigger = json!({"type": "schedule"});
    Acceptance { execution: new, owner: owner.map(str::to_owned), slot: None, idempotency: None, skipped: None }
}

pub async fn an_accepted_trigger_is_a_pending_execution_with_its_owner(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    let accepted = store.accept_execution(acceptance("q1", Some("t1"), Some("node-a"))).await.expect("accept");
    assert_eq!(accepted, Accepted::New);
    let record = load(store, "q1").await;
    assert_eq!((record.status, record.owner.as_deref()), (Status::Pending, Some("node-a")));
    let listed = store.interrupted_executions().await.expect("list");
    assert_eq!(
        listed.iter().map(|e| (e.id.as_str(), e.owner.as_deref())).collect::<Vec<_>>(),
        [("q1", Some("node-a"))]
    );
    assert_eq!(listed[0].trigger_type.as_deref(), Some("schedule"));
}

pub async fn a_schedule_slot_is_accepted_once(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    let first = Acceptance { slot: Some(at(1_000)), ..acceptance("s1", Some("t1"), None) };
    assert_eq!(store.accept_execution(first).await.expect("accept"), Accepted::New);
    let again = Acceptance { slot: Some(at(1_000)), ..acceptance("s2", Some("t1"), None) };
    assert_eq!(
        store.accept_execution(again).await.expect("accept"),
        Accepted::Existing { execution_id: "s1".to_owned() }
    );
    assert!(store.load_execution("s2").await.expect("load").is_none(), "nothing created for a slot already taken");
    let other_trigger = Acceptance { slot: Some(at(1_000)), ..acceptance("s3", Some("t2"), None) };
    assert_eq!(store.accept_execution(other_trigger).await.expect("accept"), Accepted::New);
    let next_slot = Acceptance { slot: Some(at(2_000)), ..acceptance("s4", Some("t1"), None) };
    assert_eq!(store.accept_execution(next_slot).await.expect("accept"), Accepted::New);
    assert_eq!(store.last_slot("t1").await.expect("slot"), Some(at(2_000)));
    assert_eq!(store.last_slot("t9").await.expect("slot"), None);
}

pub async fn an_idempotency_key_returns_the_first_execution_until_it_expires(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    let key = |expired_before| IdempotencyKey { scope: "hook".to_owned(), key: "abc".to_owned(), expired_before };
    let first = Acceptance { idempotency: Some(key(at(0))), ..acceptance("k1", Some("hook"), None) };
    assert_eq!(store.accept_execution(first).await.expect("accept"), Accepted::New);
    let repeat = Acceptance { idempotency: Some(key(at(0))), ..acceptance("k2", Some("hook"), None) };
    assert_eq!(
        store.accept_execution(repeat).await.expect("accept"),
        Accepted::Existing { execution_id: "k1".to_owned() }
    );
    // The first was recorded at at(10); a window that began after it has forgotten the key.
    let later = Acceptance { idempotency: Some(key(at(11))), ..acceptance("k3", Some("hook"), None) };
    assert_eq!(store.accept_execution(later).await.expect("accept"), Accepted::New);
    assert!(store.load_execution("k2").await.expect("load").is_none());
}

pub async fn a_skipped_acceptance_is_recorded_skipped_with_its_reason(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    let skipped =
        Acceptance { skipped: Some("concurrency limit 1 reached".to_owned()), ..acceptance("x1", None, None) };
    assert_eq!(store.accept_execution(skipped).await.expect("accept"), Accepted::New);
    let record = load(store, "x1").await;
    assert_eq!(record.status, Status::Skipped);
    assert_eq!(record.error.as_deref(), Some("concurrency limit 1 reached"));
    assert!(store.interrupted_executions().await.expect("list").is_empty(), "a skipped execution is finished");
}

pub async fn adopting_an_execution_is_a_compare_and_set_on_its_owner(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    store.accept_execution(acceptance("a1", None, Some("dead-node"))).await.expect("accept");
    assert!(store.adopt_execution("a1", "node-b", Some("dead-node")).await.expect("adopt"));
    assert!(!store.adopt_execution("a1", "node-c", Some("dead-node")).await.expect("adopt"), "node-b has it now");
    assert_eq!(load(store, "a1").await.owner.as_deref(), Some("node-b"));
    store.finish_execution(finish("a1", Status::Success, 20)).await.expect("finish");
    assert!(!store.adopt_execution("a1", "node-c", Some("node-b")).await.expect("adopt"), "a finished one stays");
}

pub async fn a_pending_execution_is_claimed_once_and_marked_running_under_its_claimer(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    store.accept_execution(acceptance("c1", None, Some("node-a"))).await.expect("accept");
    let (first, second) =
        (store.claim_execution("c1", "node-b", at(20)), store.claim_execution("c1", "node-a", at(21)));
    assert_eq!((first.await.expect("claim"), second.await.expect("claim")), (true, false), "the first claim wins");
    let record = load(store, "c1").await;
    assert_eq!(
        (record.status, record.owner.as_deref(), record.started_at),
        (Status::Running, Some("node-b"), Some(at(10)))
    );
    assert!(!store.claim_execution("c1", "node-c", at(22)).await.expect("claim"), "a running one is not claimed");
    store.finish_execution(finish("c1", Status::Success, 30)).await.expect("finish");
    assert!(!store.claim_execution("c1", "node-c", at(31)).await.expect("claim"), "nor a finished one");
    assert!(!store.claim_execution("ghost", "node-c", at(32)).await.expect("claim"), "nor an unknown one");
}

/// The wall clock: a shared store measures leases on its own clock, which only agrees with a real one.
fn wall_clock() -> Timestamp {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timestamp(i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX))
}

pub async fn instances_register_renew_and_go(store: &dyn Store) {
    const SECOND: i64 = 1_000_000;
    let now = wall_clock();
    let instance = InstanceRecord {
        id: "node-a".to_owned(),
        kind: "daemon".to_owned(),
        pid: 42,
        host: "here".to_owned(),
        started_at: now,
        lease_expires_at: Timestamp(now.0 + 30 * SECOND),
    };
    store.register_instance(instance.clone()).await.expect("register");
    let lease_of = |listed: Vec<InstanceRecord>| {
        assert_eq!(listed.len(), 1);
        assert_eq!(InstanceRecord { lease_expires_at: instance.lease_expires_at, ..listed[0].clone() }, instance);
        listed[0].lease_expires_at.0
    };
    // Within a minute of the lease asked for: a shared store counts it from its own now.
    let first = lease_of(store.instances().await.expect("list"));
    assert!((first - (now.0 + 30 * SECOND)).abs() < 60 * SECOND, "lease {first}, now {}", now.0);
    store.renew_instance("node-a", now, std::time::Duration::from_secs(300)).await.expect("renew");
    let renewed = lease_of(store.instances().await.expect("list"));
    assert!(renewed >= first + 200 * SECOND, "renewed for 300 s: {renewed} after {first}");
    assert_eq!(store.live_instances(now).await.expect("live"), ["node-a"]);
    let no_lease = InstanceRecord { id: "node-b".to_owned(), lease_expires_at: now, ..instance.clone() };
    store.register_instance(no_lease).await.expect("register");
    assert_eq!(store.live_instances(now).await.expect("live"), ["node-a"], "a lease of no length is over");
    let zero = std::time::Duration::ZERO;
    let unknown = store.renew_instance("node-z", now, zero).await;
    assert_eq!(unknown, Err(StoreError::UnknownInstance { id: "node-z".to_owned() }), "no lease to renew");
    store.remove_instance("node-a").await.expect("remove");
    store.remove_instance("node-b").await.expect("remove");
    assert!(store.instances().await.expect("list").is_empty());
}

pub async fn triggers_are_replaced_per_workflow_and_workflows_enable(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    seed_workflow(store, "other").await;
    let trigger = |id: &str, workflow_id: &str| TriggerRecord {
        id: id.to_owned(),
        workflow_id: workflow_id.to_owned(),
        trigger_type: "schedule".to_owned(),
        config: json!({"cron": "0 2 * * *"}),
        is_enabled: true,
    };
    store.sync_triggers("wf", vec![trigger("t1", "wf"), trigger("t2", "wf")]).await.expect("sync");
    store.sync_triggers("other", vec![trigger("t3", "other")]).await.expect("sync");
    store.sync_triggers("wf", vec![trigger("t2", "wf")]).await.expect("sync again");
    let ids: Vec<String> = store.triggers().await.expect("list").into_iter().map(|t| t.id).collect();
    assert_eq!(ids, ["t3", "t2"], "by workflow id, then trigger id");
    assert_eq!(store.triggers().await.expect("list")[1].config, json!({"cron": "0 2 * * *"}));

    store.set_workflow_enabled("wf", false).await.expect("disable");
    let workflows = store.workflows().await.expect("list");
    let enabled: Vec<(String, bool)> = workflows.into_iter().map(|w| (w.id, w.is_enabled)).collect();
    assert_eq!(enabled, [("other".to_owned(), true), ("wf".to_owned(), false)]);
    assert!(matches!(store.set_workflow_enabled("nope", true).await, Err(StoreError::UnknownWorkflow { .. })));
}

pub async fn listing_filters_by_trigger_type_and_pages_with_a_cursor(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    for (index, id) in ["p1", "p2", "p3", "p4"].iter().enumerate() {
        let mut new = execution(id, "wf", index as i64);
        if index % 2 == 0 {
            new.trigger = json!({"type": "webhook"});
        }
        store.create_execution(new).await.expect("create");
    }
    let webhooks = ExecutionFilter { trigger_type: Some("webhook".to_owned()), ..ExecutionFilter::default() };
    let ids = |found: Vec<ExecutionSummary>| found.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_executions(&webhooks).await.expect("list")), ["p3", "p1"]);
    let first_page = ExecutionFilter { limit: 2, ..ExecutionFilter::default() };
    assert_eq!(ids(store.list_executions(&first_page).await.expect("list")), ["p4", "p3"]);
    let second_page = ExecutionFilter { limit: 2, after: Some("p3".to_owned()), ..ExecutionFilter::default() };
    assert_eq!(ids(store.list_executions(&second_page).await.expect("list")), ["p2", "p1"]);
}
