//! The benchmark's realistic mix (`support::serve_mixed`) behaves as a live node does, as
//! `make bench` says it does: telemetry answers with its responses in turn, and from one to the
//! next every collection with a map Qdrant builds afresh (two entries or more) differs, and
//! about one other in ten. A cache of parsed collections judged on it is not credited with a
//! node where nothing changes.

mod support;

use std::collections::BTreeMap;

const SET: &str = "qdrant-1.18.3/single";
const N: usize = 200;

/// Each collection, by id, in a telemetry body.
fn collections(body: &str) -> BTreeMap<String, serde_json::Value> {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
    parsed["result"]["collections"]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn telemetry_changes_between_polls_as_a_live_nodes_does() {
    let server = support::FixtureServer::start(SET).await;
    support::serve_mixed(&server, SET, N);
    let client = reqwest::Client::new();
    for level in [3, 4] {
        let mut bodies = Vec::new();
        for _ in 0..5 {
            let url = format!("{}/telemetry?details_level={level}", server.url());
            let body = client.get(url).send().await.unwrap().text().await.unwrap();
            bodies.push(collections(&body));
        }
        // Four responses in turn: the fifth is the first again, and follows the fourth.
        assert_eq!(bodies[4], bodies[0], "level {level}");
        for pair in bodies.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            assert_eq!(before.len(), N);
            let (mut reordered, mut others, mut others_changed) = (0, 0, 0);
            for (id, collection) in after {
                let changed = before[id] != *collection;
                if support::has_map_of_two(collection) {
                    reordered += 1;
                    assert!(
                        changed,
                        "level {level}: {id} has a map of two and did not change"
                    );
                } else {
                    others += 1;
                    others_changed += usize::from(changed);
                }
            }
            assert!(
                reordered > N / 5,
                "level {level}: {reordered} with a map of two"
            );
            assert!(
                others > N / 10,
                "level {level}: {others} without a map of two"
            );
            let share = others_changed as f64 / others as f64;
            assert!(
                (0.05..=0.15).contains(&share),
                "level {level}: {others_changed} of {others} changed"
            );
        }
    }
}
