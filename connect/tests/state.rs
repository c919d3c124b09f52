//! The worker's state topics over a real broker (in process): what one worker writes, a restarted worker (or a
//! second one) reads back — configs, task configs, target states, source offsets and statuses.

mod common;

use common::Backend;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;
use tidemark_connect::state::{ConfigRecord, RunState, Status, TargetState, WorkerState};

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

on_both_logs!(a_restarted_worker_reads_back_every_config_offset_and_status);

async fn a_restarted_worker_reads_back_every_config_offset_and_status(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let log = &test_log.log;
    let topics = common::topics(3);
    let worker = WorkerState::open(Arc::clone(log), &topics).await.expect("open");

    let config = props(&[("connector.class", "datagen"), ("tasks.max", "2"), ("database.password", "${env:PW}")]);
    let tasks = vec![props(&[("task", "0")]), props(&[("task", "1")])];
    worker.put_connector("orders", config.clone(), tasks.clone(), Some(TargetState::Started)).await.expect("put");
    worker.put_connector("doomed", props(&[("connector.class", "file")]), vec![], None).await.expect("put");
    worker
        .write_configs(&[ConfigRecord::TargetState { name: "orders".into(), state: TargetState::Paused }])
        .await
        .expect("pause");
    worker.write_configs(&[ConfigRecord::Connector { name: "doomed".into(), properties: None }]).await.expect("delete");
    let partition = json!({ "server": "inventory" });
    let other = json!({ "server": "billing" });
    worker
        .put_offsets(
            "orders",
            &[(partition.clone(), Some(json!({ "lsn": 42 }))), (other.clone(), Some(json!({ "lsn": 7 })))],
        )
        .await
        .expect("offsets");
    worker.put_offsets("orders", &[(other, None)]).await.expect("delete an offset");
    let running = Status { state: RunState::Running, trace: None, worker_id: "127.0.0.1:8083".into(), generation: 1 };
    worker.put_status("status-task-orders-0", &running).await.expect("status");

    let restarted = WorkerState::open(Arc::clone(log), &topics).await.expect("reopen");
    let configs = restarted.configs();
    let orders = configs.connector("orders").expect("orders survives");
    assert_eq!(orders.properties, config, "stored as given: provider references unresolved");
    assert_eq!(orders.tasks, tasks);
    assert_eq!(orders.target, TargetState::Paused);
    assert!(configs.connector("doomed").is_none(), "a tombstone deletes");
    assert_eq!(restarted.offsets().of("orders"), vec![(partition, json!({ "lsn": 42 }))]);
    assert_eq!(restarted.statuses().get("status-task-orders-0"), Some(&running));
}
