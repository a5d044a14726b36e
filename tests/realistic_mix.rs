//! The benchmark's realistic mix (`support::serve_mixed`) behaves as a live node does, as
//! `make bench` says it does: telemetry answers with its responses in turn, and from one to the
//! next every collection with a map Qdrant builds afresh (two entries or more) differs, and
//! about one other in ten. A cache of parsed collections judged on it is not credited with a
//! node where nothing changes.

mod support;

use std::collections::BTreeMap;

const SET: &str = "qdrant-1.18.3/single";
const N: usize = 200;

/// Each collection's JSON text, by id, in a telemetry body.
fn collections(body: &str) -> BTreeMap<String, String> {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
    parsed["result"]["collections"]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c.to_string()))
        .collect()
}

fn vectors_by_name(collection: &str) -> usize {
    let parsed: serde_json::Value = serde_json::from_str(collection).unwrap();
    parsed["shards"][0]["local"]["num_vectors_by_name"]
        .as_object()
        .map_or(0, |m| m.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn telemetry_changes_between_polls_as_a_live_nodes_does() {
    let server = support::FixtureServer::start(SET).await;
    support::serve_mixed(&server, SET, N);
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    for _ in 0..5 {
        let url = format!("{}/telemetry?details_level=3", server.url());
        let body = client.get(url).send().await.unwrap().text().await.unwrap();
        bodies.push(collections(&body));
    }
    // Four responses in turn: the fifth is the first again.
    assert_eq!(bodies[4], bodies[0]);
    for pair in bodies[..4].windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        assert_eq!(before.len(), N);
        let (mut reordered, mut others, mut others_changed) = (0, 0, 0);
        for (id, text) in after {
            let changed = before[id] != *text;
            if vectors_by_name(text) >= 2 {
                reordered += 1;
                assert!(changed, "{id} has two vectors or more and did not change");
            } else {
                others += 1;
                others_changed += usize::from(changed);
            }
        }
        assert!(
            reordered > N / 5,
            "{reordered} collections with named vectors"
        );
        let share = others_changed as f64 / others as f64;
        assert!(
            (0.05..=0.15).contains(&share),
            "{others_changed} of {others} changed"
        );
    }
}
