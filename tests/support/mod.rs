//! Real protocol peers for the integration tests: an HTTP server replaying recorded Qdrant
//! responses (with fault injection), and OTLP receivers (HTTP/protobuf and gRPC) that decode
//! what the agent really pushed.
#![allow(dead_code)]

pub mod tls;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub fn fixture_dir(set: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(set)
}

/// A fault the fixture server injects into matching requests.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Sleep, then answer normally.
    Delay(Duration),
    /// Answer this status with Qdrant's JSON error envelope.
    Status(u16),
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 announcing the full length but sending half the body.
    Truncate,
    /// Close the connection without answering.
    Reset,
    /// 200 with a JSON body of this many bytes.
    Oversize(usize),
    /// 302 to the same path on this base URL (`http://host:port`).
    Redirect(String),
    /// 200, chunked, with a body that never ends (until the client gives up).
    Endless,
    /// The normal answer with no declared length: chunked, in pieces of this many bytes; the
    /// stream is cut after `cut_after` bytes when set.
    Chunked {
        piece: usize,
        cut_after: Option<usize>,
    },
}

#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// When the request head was read.
    pub at: Instant,
    /// Bytes of response body written (0 until answered, and for a reset connection).
    pub bytes: usize,
}

#[derive(Clone)]
struct Response {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct ServerState {
    responses: HashMap<String, Response>,
    /// Paths answered by each of several responses in turn, and how many were answered.
    rotating: HashMap<String, (Vec<Response>, usize)>,
    originals: HashMap<String, Response>,
    faults: Vec<(String, Fault)>,
    api_key: Option<String>,
    requests: Vec<RecordedRequest>,
    /// Plain answers keep the connection open for the next request, as Qdrant (actix) does;
    /// off by default, so that each request of a fault test has a connection of its own.
    keep_alive: bool,
    /// Connections accepted.
    connections: usize,
}

/// A real HTTP/1.1 server on 127.0.0.1 serving one recorded Qdrant node.
pub struct FixtureServer {
    addr: SocketAddr,
    state: Arc<Mutex<ServerState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FixtureServer {
    /// Serve `tests/fixtures/<set>/` as recorded in its `index.json`.
    pub async fn start(set: &str) -> FixtureServer {
        let dir = fixture_dir(set);
        let index: Vec<serde_json::Value> = serde_json::from_str(
            &std::fs::read_to_string(dir.join("index.json"))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display())),
        )
        .unwrap();
        let mut responses = HashMap::new();
        for entry in index {
            let file = entry["file"].as_str().unwrap();
            if entry.get("api_key").is_some() {
                // What Qdrant answered without (or with a wrong) key: served by `require_api_key`.
                continue;
            }
            responses.insert(
                entry["path"].as_str().unwrap().to_string(),
                Response {
                    status: entry["status"].as_u64().unwrap() as u16,
                    content_type: entry["content_type"].as_str().unwrap_or("").to_string(),
                    body: std::fs::read(dir.join(file)).unwrap(),
                },
            );
        }
        let state = Arc::new(Mutex::new(ServerState {
            originals: responses.clone(),
            responses,
            ..ServerState::default()
        }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                // As a real server does: with connections kept alive, Nagle's algorithm
                // would hold a response's second write until the client's delayed ACK.
                let _ = stream.set_nodelay(true);
                shared.lock().unwrap().connections += 1;
                tokio::spawn(serve_connection(stream, Arc::clone(&shared)));
            }
        });
        FixtureServer { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set_response(
        &self,
        path_and_query: &str,
        status: u16,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) {
        self.state.lock().unwrap().responses.insert(
            path_and_query.to_string(),
            Response {
                status,
                content_type: content_type.to_string(),
                body: body.into(),
            },
        );
    }

    /// Answer `path_and_query` with each of `bodies` in turn (JSON, 200), over `set_response`.
    pub fn set_rotating_responses(&self, path_and_query: &str, bodies: Vec<String>) {
        let answers = bodies
            .into_iter()
            .map(|body| Response {
                status: 200,
                content_type: "application/json".into(),
                body: body.into(),
            })
            .collect();
        let mut state = self.state.lock().unwrap();
        state
            .rotating
            .insert(path_and_query.to_string(), (answers, 0));
    }

    /// Keep connections open between plain answers (no fault), as a real Qdrant does, so that
    /// a benchmark does not charge the agent a TCP connect per request.
    pub fn keep_alive(&self) {
        self.state.lock().unwrap().keep_alive = true;
    }

    /// Close each connection after its answer again (undo [`Self::keep_alive`]).
    pub fn close_connections(&self) {
        self.state.lock().unwrap().keep_alive = false;
    }

    /// How many connections the server has accepted.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Undo every `set_response`.
    pub fn reset_responses(&self) {
        let mut state = self.state.lock().unwrap();
        state.responses = state.originals.clone();
        state.rotating.clear();
    }

    pub fn set_fault(&self, prefix: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push((prefix.to_string(), fault));
    }

    /// Remove faults and restore recorded responses.
    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
        self.reset_responses();
    }

    pub fn require_api_key(&self, key: &str) {
        self.state.lock().unwrap().api_key = Some(key.to_string());
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn request_count(&self, path_and_query: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.path == path_and_query)
            .count()
    }

    /// `points_count` of a collection, as this node's recorded `/collections/{name}` says.
    pub fn points_count(&self, collection: &str) -> f64 {
        let body: serde_json::Value =
            serde_json::from_str(&self.fixture_body(&format!("/collections/{collection}")))
                .unwrap();
        body["result"]["points_count"].as_f64().unwrap()
    }

    /// Points in a collection's local shards, as this node's recorded telemetry says.
    pub fn local_points(&self, collection: &str) -> f64 {
        let body: serde_json::Value =
            serde_json::from_str(&self.fixture_body("/telemetry?details_level=3")).unwrap();
        body["result"]["collections"]["collections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"] == collection)
            .flat_map(|c| c["shards"].as_array().unwrap())
            .filter_map(|shard| shard["local"]["num_points"].as_f64())
            .sum()
    }

    /// The recorded body of a path, as text.
    pub fn fixture_body(&self, path_and_query: &str) -> String {
        let state = self.state.lock().unwrap();
        let response = state
            .originals
            .get(path_and_query)
            .unwrap_or_else(|| panic!("no recorded response for {path_and_query}"));
        String::from_utf8(response.body.clone()).unwrap()
    }
}

/// Read one request head, after `buffer` (what was read past the previous request); `None`
/// when the peer closed the connection.
async fn read_head<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    mut buffer: Vec<u8>,
) -> Option<(String, Vec<(String, String)>, Vec<u8>)> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            let rest = buffer[end + 4..].to_vec();
            let mut lines = head.split("\r\n");
            let target = lines.next()?.split(' ').nth(1)?.to_string();
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            return Some((target, headers, rest));
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

async fn serve_connection(mut stream: TcpStream, state: Arc<Mutex<ServerState>>) {
    // One request per connection (`Connection: close`) unless the server keeps connections
    // alive; a fault always ends its connection, so that faults stay per request.
    let mut rest = Vec::new();
    loop {
        let Some((path, headers, after)) = read_head(&mut stream, rest).await else {
            return;
        };
        rest = after;
        if !serve_request(&mut stream, &state, path, headers).await {
            return;
        }
    }
}

/// Answer one request; true when the connection stays open for the next.
async fn serve_request(
    stream: &mut TcpStream,
    state: &Mutex<ServerState>,
    path: String,
    headers: Vec<(String, String)>,
) -> bool {
    let (index, fault, response, authorized, keep_alive) = {
        let mut state = state.lock().unwrap();
        let index = state.requests.len();
        state.requests.push(RecordedRequest {
            path: path.clone(),
            headers: headers.clone(),
            at: Instant::now(),
            bytes: 0,
        });
        let fault = state
            .faults
            .iter()
            .rev()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map(|(_, f)| f.clone());
        let authorized = match &state.api_key {
            None => true,
            Some(key) => headers.iter().any(|(k, v)| {
                (k == "api-key" && v == key)
                    || (k == "authorization" && v == &format!("Bearer {key}"))
            }),
        };
        (
            index,
            fault,
            match state.rotating.get_mut(&path) {
                Some((answers, served)) => {
                    *served += 1;
                    answers.get((*served - 1) % answers.len()).cloned()
                }
                None => state.responses.get(&path).cloned(),
            },
            authorized,
            state.keep_alive,
        )
    };
    let mut response = response.unwrap_or(Response {
        status: 404,
        content_type: "application/json".into(),
        body: br#"{"status":{"error":"Not found"},"time":0.0}"#.to_vec(),
    });
    if !authorized {
        response = Response {
            status: 401,
            content_type: "text/plain".into(),
            body: b"Must provide an API key or an Authorization bearer token".to_vec(),
        };
    }
    let mut truncate = false;
    if let Some(Fault::Redirect(base)) = &fault {
        let head = format!(
            "HTTP/1.1 302 Found\r\nlocation: {base}{path}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes()).await;
        return false;
    }
    if let Some(Fault::Endless) = &fault {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
        if stream.write_all(head.as_bytes()).await.is_err() {
            return false;
        }
        let chunk = vec![b' '; 64 * 1024];
        let framed = [
            format!("{:x}\r\n", chunk.len()).into_bytes(),
            chunk,
            b"\r\n".to_vec(),
        ]
        .concat();
        while stream.write_all(&framed).await.is_ok() {}
        return false;
    }
    if let Some(Fault::Chunked { piece, cut_after }) = &fault {
        let head = format!(
            "HTTP/1.1 {} X\r\ncontent-type: {}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            response.status, response.content_type
        );
        let body = &response.body[..cut_after.unwrap_or(usize::MAX).min(response.body.len())];
        let mut framed = head.into_bytes();
        for part in body.chunks((*piece).max(1)) {
            framed.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            framed.extend_from_slice(part);
            framed.extend_from_slice(b"\r\n");
        }
        if cut_after.is_none() {
            framed.extend_from_slice(b"0\r\n\r\n");
        }
        if stream.write_all(&framed).await.is_ok() {
            state.lock().unwrap().requests[index].bytes = body.len();
        }
        let _ = stream.shutdown().await;
        return false;
    }
    match fault {
        None => {}
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::Status(status)) => {
            response = Response {
                status,
                content_type: "application/json".into(),
                body: br#"{"status":{"error":"injected"},"time":0.0}"#.to_vec(),
            }
        }
        Some(Fault::Garbage) => {
            response = Response {
                status: 200,
                content_type: "application/json".into(),
                body: b"this is not json {".to_vec(),
            }
        }
        Some(Fault::Truncate) => truncate = true,
        Some(Fault::Redirect(_) | Fault::Endless | Fault::Chunked { .. }) => {
            unreachable!("answered above")
        }
        Some(Fault::Reset) => return false,
        Some(Fault::Oversize(size)) => {
            let mut body = br#"{"result":""#.to_vec();
            body.resize(size.saturating_sub(2), b'a');
            body.extend_from_slice(b"\"}");
            response = Response {
                status: 200,
                content_type: "application/json".into(),
                body,
            }
        }
    }
    let keep = keep_alive
        && fault.is_none()
        && !headers
            .iter()
            .any(|(k, v)| k == "connection" && v.eq_ignore_ascii_case("close"));
    let head = format!(
        "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: {}\r\n\r\n",
        response.status,
        if response.content_type.is_empty() {
            "text/plain"
        } else {
            &response.content_type
        },
        response.body.len(),
        if keep { "keep-alive" } else { "close" }
    );
    let body = if truncate {
        &response.body[..response.body.len() / 2]
    } else {
        &response.body[..]
    };
    let mut framed = head.into_bytes();
    framed.extend_from_slice(body);
    if stream.write_all(&framed).await.is_err() {
        return false;
    }
    state.lock().unwrap().requests[index].bytes = body.len();
    if !keep {
        let _ = stream.shutdown().await;
    }
    keep
}

/// `telemetry@details_level-<level>.json` of `set` with `n` collections, cloned round-robin
/// from the recorded ones and named `c00000`, `c00001`, ….
pub fn scaled_telemetry(set: &str, level: u8, n: usize) -> String {
    let path = fixture_dir(set).join(format!("telemetry@details_level-{level}.json"));
    let mut body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let collections = &mut body["result"]["collections"];
    let recorded = collections["collections"].as_array().unwrap().clone();
    let scaled: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut c = recorded[i % recorded.len()].clone();
            c["id"] = format!("c{i:05}").into();
            c
        })
        .collect();
    collections["collections"] = scaled.into();
    collections["number_of_collections"] = n.into();
    let names = ids(&recorded);
    clone_per_collection_parts(&mut body, &names, |i| i % names.len(), n);
    body.to_string()
}

/// What telemetry says of each collection outside `collections.collections`, cloned for the
/// `n` collections as they were: snapshot activity (Qdrant lists every collection's) and
/// hardware counters (every collection that has served a request), each from the recorded
/// collection `base(i)` (in the recorded list) that `c{i:05}` was made from. Snapshot activity
/// lists the clones only; the recorded hardware counters stay beside theirs (as a real node
/// keeps those of collections that no longer exist).
fn clone_per_collection_parts(
    body: &mut serde_json::Value,
    names: &[String],
    base: impl Fn(usize) -> usize,
    n: usize,
) {
    let result = &mut body["result"];
    let snapshots = result["collections"]["snapshots"].as_array().cloned();
    if let Some(snapshots) = snapshots {
        let by_name = |name: &str| snapshots.iter().find(|s| s["id"] == name).cloned();
        let cloned: Vec<serde_json::Value> = (0..n)
            .filter_map(|i| {
                let mut entry = by_name(names.get(base(i))?)?;
                entry["id"] = format!("c{i:05}").into();
                Some(entry)
            })
            .collect();
        result["collections"]["snapshots"] = cloned.into();
    }
    if let Some(data) = result["hardware"]["collection_data"].as_object_mut() {
        for i in 0..n {
            let Some(counters) = names.get(base(i)).and_then(|name| data.get(name)).cloned() else {
                continue;
            };
            data.insert(format!("c{i:05}"), counters);
        }
    }
}

/// The recorded collections' names, in the order `serve_scaled` clones them.
pub fn recorded_collections(set: &str) -> Vec<String> {
    let path = fixture_dir(set).join("telemetry@details_level-3.json");
    let body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    ids(body["result"]["collections"]["collections"]
        .as_array()
        .unwrap())
}

/// The names of a telemetry's listed collections, in order.
fn ids(collections: &[serde_json::Value]) -> Vec<String> {
    collections
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// Which recorded collection the `i`-th collection of the realistic mix is made from: the five
/// recorded ones, `products` (named dense vectors and a sparse one) three times in ten.
fn mixed_base(recorded: &[String], i: usize) -> usize {
    const PATTERN: [&str; 10] = [
        "articles",
        "busy",
        "products",
        "sharded",
        "products",
        "articles",
        "empty_collection",
        "products",
        "busy",
        "articles",
    ];
    let name = PATTERN[i % PATTERN.len()];
    recorded
        .iter()
        .position(|r| r == name)
        .unwrap_or(i % recorded.len())
}

/// Shards per collection in the realistic mix (mean 2.65): mostly one, some with many, as
/// tenants shard their largest collections.
const MIXED_SHARDS: [usize; 20] = [1, 1, 1, 1, 1, 1, 2, 2, 3, 6, 1, 12, 1, 2, 4, 1, 1, 3, 1, 8];
/// Segments per shard (level 4) in the realistic mix (mean 4.6): a collection that grew and was
/// optimized has several, as `default_segment_number` (the CPU count) makes.
const MIXED_SEGMENTS: [usize; 5] = [2, 3, 4, 6, 8];

/// `telemetry@details_level-<level>.json` of `set` with `n` collections of different shapes and
/// sizes, as real tenants have (the realistic mix of `make bench`): cloned from the recorded
/// ones ([`mixed_base`]) with 1 to 12 shards ([`MIXED_SHARDS`]), 2 to 8 segments per shard
/// ([`MIXED_SEGMENTS`]), a multivector on a quarter of those with named vectors, and point
/// counts spread over five orders of magnitude.
pub fn mixed_telemetry(set: &str, level: u8, n: usize) -> String {
    mixed_telemetry_variant(set, level, n, None)
}

/// Responses of the realistic mix that [`serve_mixed`] rotates through, so that collections
/// change between two polls as on a live node rather than never: see [`churn`].
const MIXED_VARIANTS: usize = 4;

/// [`mixed_telemetry`] as the `variant`-th response of a live node ([`churn`]), or as
/// recorded (`None`).
fn mixed_telemetry_variant(set: &str, level: u8, n: usize, variant: Option<usize>) -> String {
    let path = fixture_dir(set).join(format!("telemetry@details_level-{level}.json"));
    let mut body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let collections = &mut body["result"]["collections"];
    let recorded = collections["collections"].as_array().unwrap().clone();
    let names = ids(&recorded);
    let mixed: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut collection = mixed_collection(&recorded[mixed_base(&names, i)], i);
            if let Some(variant) = variant {
                churn(&mut collection, i, variant);
            }
            collection
        })
        .collect();
    collections["collections"] = mixed.into();
    collections["number_of_collections"] = n.into();
    clone_per_collection_parts(&mut body, &names, |i| mixed_base(&names, i), n);
    body.to_string()
}

/// What changes in collection `i` of the mix from one response to the next on a live node:
/// - Qdrant builds some telemetry maps afresh for each response (a shard's vectors by name,
///   its replicas' states, a segment's vector data and payload indexes), so a collection with
///   two entries or more in one is written in another order most times: such a collection's
///   bytes are made to differ in every variant (its update operation number, which the agent
///   does not read);
/// - of the others, one in twenty is written to in each variant (its operation number and
///   point count grow), so about one in ten differs from the response before.
fn churn(collection: &mut serde_json::Value, i: usize, variant: usize) {
    let reordered = has_map_of_two(collection);
    let written = (i * 7 + variant * 13).is_multiple_of(20);
    if !reordered && !written {
        return;
    }
    let Some(shards) = collection["shards"].as_array_mut() else {
        return;
    };
    for shard in shards {
        let local = &mut shard["local"];
        if let Some(op_num) = local["update_queue"]["op_num"].as_u64() {
            local["update_queue"]["op_num"] = (op_num + 1 + variant as u64).into();
        }
        if written {
            if let Some(points) = local["num_points"].as_u64() {
                local["num_points"] = (points + 1 + variant as u64).into();
            }
        }
    }
}

/// Whether a map Qdrant builds afresh for each response has two entries or more.
pub fn has_map_of_two(value: &serde_json::Value) -> bool {
    const FRESH: [&str; 4] = [
        "num_vectors_by_name",
        "replicate_states",
        "vector_data",
        "index_schema",
    ];
    match value {
        serde_json::Value::Object(map) => map.iter().any(|(key, value)| {
            FRESH.contains(&key.as_str()) && value.as_object().is_some_and(|m| m.len() >= 2)
                || has_map_of_two(value)
        }),
        serde_json::Value::Array(list) => list.iter().any(has_map_of_two),
        _ => false,
    }
}

fn mixed_collection(base: &serde_json::Value, i: usize) -> serde_json::Value {
    let mut c = base.clone();
    c["id"] = format!("c{i:05}").into();
    let shards = MIXED_SHARDS[i % MIXED_SHARDS.len()];
    let segments = MIXED_SEGMENTS[(i / 5) % MIXED_SEGMENTS.len()];
    let scale = 10u64.pow((i % 5) as u32);
    c["config"]["params"]["shard_number"] = shards.into();
    if i.is_multiple_of(4) {
        if let Some(vectors) = c["config"]["params"]["vectors"].as_object_mut() {
            if let Some(first) = vectors
                .values_mut()
                .find(|v| v.is_object() && v.get("size").is_some())
            {
                first["multivector_config"] = serde_json::json!({"comparator": "max_sim"});
            }
        }
    }
    let first = c["shards"][0].clone();
    let copies: Vec<serde_json::Value> = (0..shards)
        .map(|id| {
            let mut shard = first.clone();
            shard["id"] = id.into();
            let local = &mut shard["local"];
            for field in ["num_points", "num_vectors", "total_optimized_points"] {
                if let Some(v) = local[field].as_u64() {
                    local[field] = (v * scale).into();
                }
            }
            if let Some(recorded) = local["segments"].as_array().cloned() {
                let grown: Vec<serde_json::Value> = (0..segments)
                    .map(|k| {
                        let mut segment = recorded[k % recorded.len()].clone();
                        segment["info"]["uuid"] =
                            format!("{i:08}-{id:04}-4000-8000-{k:012}").into();
                        segment
                    })
                    .collect();
                local["segments"] = grown.into();
            }
            shard
        })
        .collect();
    c["shards"] = copies.into();
    c
}

/// Serve `set` as [`serve_scaled`] does, with the realistic mix of [`mixed_telemetry`]; each
/// collection's per-collection endpoints answer as its recorded base's.
pub fn serve_mixed(server: &FixtureServer, set: &str, n: usize) {
    server.keep_alive();
    for level in [3, 4] {
        let variants = (0..MIXED_VARIANTS)
            .map(|variant| mixed_telemetry_variant(set, level, n, Some(variant)))
            .collect();
        server.set_rotating_responses(&format!("/telemetry?details_level={level}"), variants);
    }
    let names = recorded_collections(set);
    serve_per_collection(server, set, n, |i| mixed_base(&names, i));
}

/// Serve `set` scaled to `n` collections named `c00000`, …: telemetry (levels 3 and 4), the
/// collection list, and every per-collection endpoint, each cloned round-robin from the
/// recorded collections, so that nothing the agent asks for is a 404.
pub fn serve_scaled(server: &FixtureServer, set: &str, n: usize) {
    server.keep_alive();
    for level in [3, 4] {
        server.set_response(
            &format!("/telemetry?details_level={level}"),
            200,
            "application/json",
            scaled_telemetry(set, level, n),
        );
    }
    let count = recorded_collections(set).len();
    serve_per_collection(server, set, n, |i| i % count);
}

/// The collection list of `n` collections named `c00000`, …, and each one's per-collection
/// endpoints answering as the recorded collection `base(i)` does.
fn serve_per_collection(
    server: &FixtureServer,
    set: &str,
    n: usize,
    base: impl Fn(usize) -> usize,
) {
    let recorded = recorded_collections(set);
    let names: Vec<String> = (0..n).map(|i| format!("c{i:05}")).collect();
    let list: Vec<serde_json::Value> = names
        .iter()
        .map(|n| serde_json::json!({"name": n}))
        .collect();
    server.set_response(
        "/collections",
        200,
        "application/json",
        serde_json::json!({"result": {"collections": list}, "status": "ok", "time": 0.0})
            .to_string(),
    );
    let bodies: Vec<Vec<(String, String)>> = recorded
        .iter()
        .map(|original| {
            ["", "/optimizations", "/memory", "/snapshots"]
                .iter()
                .map(|suffix| {
                    let path = format!("/collections/{original}{suffix}");
                    (suffix.to_string(), server.fixture_body(&path))
                })
                .collect()
        })
        .collect();
    for (i, name) in names.iter().enumerate() {
        for (suffix, body) in &bodies[base(i)] {
            server.set_response(
                &format!("/collections/{name}{suffix}"),
                200,
                "application/json",
                body.clone(),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OTLP receivers

#[derive(Default)]
struct Received {
    requests: Vec<ExportMetricsServiceRequest>,
    /// Trace exports (`/v1/traces`, or the gRPC trace service), kept apart from the metrics.
    traces: Vec<ExportTraceServiceRequest>,
    headers: Vec<Vec<(String, String)>>,
    /// Size of each request body as sent (compressed when gzip is on).
    body_sizes: Vec<usize>,
    failing: bool,
    /// `service.instance.id` → how long to hold the answer to requests carrying that resource.
    delays: HashMap<String, Duration>,
    /// When each export request arrived, answered or refused (HTTP receiver).
    attempts: Vec<std::time::Instant>,
    /// Answer the next requests with this status and headers instead (HTTP receiver).
    answer: Option<Answer>,
    /// Accept the next requests in part: an OTLP partial success (both receivers).
    partial: Option<PartialAnswer>,
    /// TCP connections accepted.
    connections: usize,
    /// TLS handshakes refused (HTTPS receiver).
    refused_handshakes: usize,
    /// The connection each recorded request came on (the HTTP receiver numbers them from 1;
    /// the gRPC receiver names them by the client's port).
    request_connections: Vec<usize>,
}

/// A configured OTLP partial success.
#[derive(Debug, Clone)]
struct PartialAnswer {
    rejected: i64,
    message: String,
    times: usize,
}

impl Received {
    /// The response to a request accepted now: a partial success while one is configured.
    fn accept(&mut self) -> ExportMetricsServiceResponse {
        match &mut self.partial {
            Some(partial) if partial.times > 0 => {
                partial.times -= 1;
                ExportMetricsServiceResponse {
                    partial_success: Some(ExportMetricsPartialSuccess {
                        rejected_data_points: partial.rejected,
                        error_message: partial.message.clone(),
                    }),
                }
            }
            _ => ExportMetricsServiceResponse::default(),
        }
    }
}

/// A configured HTTP answer to export requests.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// How many requests get it.
    pub times: usize,
}

/// The `service.instance.id`s of a request's resources.
pub fn instances_of(request: &ExportMetricsServiceRequest) -> Vec<String> {
    request
        .resource_metrics
        .iter()
        .filter_map(|rm| rm.resource.as_ref())
        .flat_map(|r| r.attributes.iter())
        .filter(|kv| kv.key == "service.instance.id")
        .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// An in-process OTLP receiver decoding real protobufs.
pub struct OtlpReceiver {
    endpoint: String,
    received: Arc<Mutex<Received>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OtlpReceiver {
    /// OTLP/HTTP: POST …/v1/metrics with a (possibly gzipped) protobuf body.
    pub async fn start_http() -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Received::default()));
        let shared = Arc::clone(&received);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let connection = {
                    let mut received = shared.lock().unwrap();
                    received.connections += 1;
                    received.connections
                };
                tokio::spawn(serve_otlp_http(stream, Arc::clone(&shared), connection));
            }
        });
        OtlpReceiver {
            endpoint: format!("http://{addr}"),
            received,
            task,
        }
    }

    /// OTLP/gRPC (tonic), gzip accepted.
    pub async fn start_grpc() -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Received::default()));
        let service = GrpcMetrics(Arc::clone(&received));
        let traces = GrpcTraces(Arc::clone(&received));
        let counted = Arc::clone(&received);
        let task = tokio::spawn(async move {
            let incoming = tokio_stream_from(listener, counted);
            let _ = tonic::transport::Server::builder()
                .add_service(
                    MetricsServiceServer::new(service)
                        .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
                )
                .add_service(
                    TraceServiceServer::new(traces)
                        .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
                )
                .serve_with_incoming(incoming)
                .await;
        });
        OtlpReceiver {
            endpoint: format!("http://{addr}"),
            received,
            task,
        }
    }

    /// Base URL of the receiver.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    pub fn requests(&self) -> Vec<ExportMetricsServiceRequest> {
        self.received.lock().unwrap().requests.clone()
    }

    /// The trace exports received so far.
    pub fn traces(&self) -> Vec<ExportTraceServiceRequest> {
        self.received.lock().unwrap().traces.clone()
    }

    pub fn headers(&self) -> Vec<Vec<(String, String)>> {
        self.received.lock().unwrap().headers.clone()
    }

    /// Bytes on the wire of each HTTP export request (HTTP receiver only).
    pub fn body_sizes(&self) -> Vec<usize> {
        self.received.lock().unwrap().body_sizes.clone()
    }

    /// Take the export requests received so far and their sizes on the wire, leaving none.
    pub fn take(&self) -> (Vec<ExportMetricsServiceRequest>, Vec<usize>) {
        let mut received = self.received.lock().unwrap();
        received.headers.clear();
        received.request_connections.clear();
        (
            std::mem::take(&mut received.requests),
            std::mem::take(&mut received.body_sizes),
        )
    }

    pub fn clear(&self) {
        let mut received = self.received.lock().unwrap();
        received.requests.clear();
        received.headers.clear();
        received.body_sizes.clear();
        received.request_connections.clear();
    }

    /// TCP connections the receiver accepted so far.
    pub fn connections(&self) -> usize {
        self.received.lock().unwrap().connections
    }

    /// The connection each received request came on, in the order of [`OtlpReceiver::requests`].
    pub fn request_connections(&self) -> Vec<usize> {
        self.received.lock().unwrap().request_connections.clone()
    }

    pub fn set_failing(&self, failing: bool) {
        self.received.lock().unwrap().failing = failing;
    }

    /// Answer the next `answer.times` HTTP requests with this status and headers (and an
    /// empty body); they are not recorded as received.
    pub fn answer_with(&self, answer: Answer) {
        self.received.lock().unwrap().answer = Some(answer);
    }

    /// Accept the next `times` requests (HTTP or gRPC) as an OTLP partial success: recorded as
    /// received, answered with `rejected` data points rejected and `message`.
    pub fn answer_partial_success(&self, rejected: i64, message: &str, times: usize) {
        self.received.lock().unwrap().partial = Some(PartialAnswer {
            rejected,
            message: message.to_string(),
            times,
        });
    }

    /// When each HTTP export request arrived, refused ones included.
    pub fn attempts(&self) -> Vec<std::time::Instant> {
        self.received.lock().unwrap().attempts.clone()
    }

    /// Hold the answer to every request carrying this resource for `delay` (HTTP receiver).
    pub fn delay_resource(&self, instance: &str, delay: Duration) {
        self.received
            .lock()
            .unwrap()
            .delays
            .insert(instance.to_string(), delay);
    }

    /// Wait until at least `n` export requests arrived.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Vec<ExportMetricsServiceRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let requests = self.requests();
            if requests.len() >= n {
                return requests;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "expected {n} OTLP export request(s) within {timeout:?}, got {}",
                    requests.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The connections `listener` accepts, counted.
fn tokio_stream_from(
    listener: TcpListener,
    received: Arc<Mutex<Received>>,
) -> impl futures::Stream<Item = Result<TcpStream, std::io::Error>> {
    futures::stream::unfold(listener, move |listener| {
        let received = Arc::clone(&received);
        async move {
            let accepted = listener.accept().await.map(|(stream, _)| stream);
            if accepted.is_ok() {
                received.lock().unwrap().connections += 1;
            }
            Some((accepted, listener))
        }
    })
}

async fn serve_otlp_http<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut stream: S,
    received: Arc<Mutex<Received>>,
    connection: usize,
) {
    loop {
        let Some((path, headers, mut body)) = read_head(&mut stream, Vec::new()).await else {
            return;
        };
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while body.len() < length {
            let mut chunk = vec![0u8; length - body.len()];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
        let wire_size = body.len();
        let gzipped = headers
            .iter()
            .any(|(k, v)| k == "content-encoding" && v == "gzip");
        if gzipped {
            let mut decoded = Vec::new();
            use std::io::Read;
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut decoded)
                .expect("valid gzip");
            body = decoded;
        }
        if path.ends_with("/v1/traces") {
            let request = ExportTraceServiceRequest::decode(&body[..]).expect("valid protobuf");
            received.lock().unwrap().traces.push(request);
            let payload = ExportTraceServiceResponse::default().encode_to_vec();
            if !answer_protobuf(&mut stream, 200, &payload, "").await {
                return;
            }
            continue;
        }
        let request = ExportMetricsServiceRequest::decode(&body[..]).expect("valid protobuf");
        let instances = instances_of(&request);
        let (failing, answer, accepted) = {
            let mut received = received.lock().unwrap();
            received.attempts.push(std::time::Instant::now());
            let answer = match &mut received.answer {
                Some(answer) if answer.times > 0 => {
                    answer.times -= 1;
                    Some(answer.clone())
                }
                _ => None,
            };
            let mut accepted = ExportMetricsServiceResponse::default();
            if !received.failing && answer.is_none() {
                received.requests.push(request);
                received.headers.push(headers);
                received.body_sizes.push(wire_size);
                received.request_connections.push(connection);
                accepted = received.accept();
            }
            (received.failing, answer, accepted)
        };
        let delay = {
            let received = received.lock().unwrap();
            instances
                .iter()
                .filter_map(|i| received.delays.get(i).copied())
                .max()
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let (status, payload, extra) = if let Some(answer) = answer {
            let extra: String = answer
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}\r\n"))
                .collect();
            (answer.status, Vec::new(), extra)
        } else if failing {
            (503, Vec::new(), String::new())
        } else {
            (200, accepted.encode_to_vec(), String::new())
        };
        if !answer_protobuf(&mut stream, status, &payload, &extra).await {
            return;
        }
    }
}

/// Write a protobuf answer with `extra` header lines; false when the peer is gone.
async fn answer_protobuf<S: tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    payload: &[u8],
    extra: &str,
) -> bool {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n{extra}\r\n",
        payload.len()
    );
    stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(payload).await.is_ok()
}

struct GrpcMetrics(Arc<Mutex<Received>>);

#[tonic::async_trait]
impl MetricsService for GrpcMetrics {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let headers = request
            .metadata()
            .iter()
            .filter_map(|entry| match entry {
                tonic::metadata::KeyAndValueRef::Ascii(k, v) => {
                    Some((k.to_string(), v.to_str().unwrap_or("").to_string()))
                }
                _ => None,
            })
            .collect();
        let connection = request
            .remote_addr()
            .map_or(0, |addr| usize::from(addr.port()));
        let mut received = self.0.lock().unwrap();
        if received.failing {
            return Err(tonic::Status::unavailable("failing on purpose"));
        }
        received.request_connections.push(connection);
        received.requests.push(request.into_inner());
        received.headers.push(headers);
        Ok(tonic::Response::new(received.accept()))
    }
}

struct GrpcTraces(Arc<Mutex<Received>>);

#[tonic::async_trait]
impl TraceService for GrpcTraces {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().traces.push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

// ---------------------------------------------------------------------------------------------
// Flattening for assertions

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Gauge,
    Sum { monotonic: bool },
    Histogram,
    Other,
}

/// One decoded data point with its metric and resource.
#[derive(Debug, Clone)]
pub struct FlatPoint {
    pub resource: BTreeMap<String, String>,
    pub metric: String,
    pub unit: String,
    pub description: String,
    pub kind: Kind,
    pub attributes: BTreeMap<String, String>,
    pub value: f64,
    pub is_int: bool,
    pub start_time_unix_nano: u64,
    pub time_unix_nano: u64,
    /// Keys of the attributes whose value is an int `AnyValue`.
    pub int_attributes: Vec<String>,
    /// `ScopeMetrics.schema_url`.
    pub schema_url: String,
    /// `Sum.aggregation_temporality` (0 for a gauge).
    pub temporality: i32,
}

fn any_value_text(value: &Option<AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, String> {
    list.iter()
        .map(|kv| (kv.key.clone(), any_value_text(&kv.value)))
        .collect()
}

pub fn flatten(requests: &[ExportMetricsServiceRequest]) -> Vec<FlatPoint> {
    let mut points = Vec::new();
    for request in requests {
        for resource_metrics in &request.resource_metrics {
            let resource = resource_metrics
                .resource
                .as_ref()
                .map(|r| attributes(&r.attributes))
                .unwrap_or_default();
            for scope in &resource_metrics.scope_metrics {
                for metric in &scope.metrics {
                    if let Some(metric::Data::Histogram(h)) = &metric.data {
                        points.extend(histogram_points(&resource, metric, h, &scope.schema_url));
                        continue;
                    }
                    let (kind, data_points, temporality) = match &metric.data {
                        Some(metric::Data::Gauge(g)) => (Kind::Gauge, &g.data_points, 0),
                        Some(metric::Data::Sum(s)) => (
                            Kind::Sum {
                                monotonic: s.is_monotonic,
                            },
                            &s.data_points,
                            s.aggregation_temporality,
                        ),
                        _ => continue,
                    };
                    for point in data_points {
                        let (value, is_int) = match point.value {
                            Some(number_data_point::Value::AsInt(i)) => (i as f64, true),
                            Some(number_data_point::Value::AsDouble(d)) => (d, false),
                            None => (f64::NAN, false),
                        };
                        points.push(FlatPoint {
                            resource: resource.clone(),
                            metric: metric.name.clone(),
                            unit: metric.unit.clone(),
                            description: metric.description.clone(),
                            kind: kind.clone(),
                            attributes: attributes(&point.attributes),
                            value,
                            is_int,
                            start_time_unix_nano: point.start_time_unix_nano,
                            time_unix_nano: point.time_unix_nano,
                            int_attributes: point
                                .attributes
                                .iter()
                                .filter(|kv| {
                                    matches!(
                                        kv.value.as_ref().and_then(|v| v.value.as_ref()),
                                        Some(any_value::Value::IntValue(_))
                                    )
                                })
                                .map(|kv| kv.key.clone())
                                .collect(),
                            schema_url: scope.schema_url.clone(),
                            temporality,
                        });
                    }
                }
            }
        }
    }
    points
}

/// A histogram's points, each with its count as the value.
fn histogram_points(
    resource: &BTreeMap<String, String>,
    metric: &opentelemetry_proto::tonic::metrics::v1::Metric,
    histogram: &opentelemetry_proto::tonic::metrics::v1::Histogram,
    schema_url: &str,
) -> Vec<FlatPoint> {
    histogram
        .data_points
        .iter()
        .map(|point| FlatPoint {
            resource: resource.clone(),
            metric: metric.name.clone(),
            unit: metric.unit.clone(),
            description: metric.description.clone(),
            kind: Kind::Histogram,
            attributes: attributes(&point.attributes),
            value: point.count as f64,
            is_int: true,
            start_time_unix_nano: point.start_time_unix_nano,
            time_unix_nano: point.time_unix_nano,
            int_attributes: Vec::new(),
            schema_url: schema_url.to_string(),
            temporality: histogram.aggregation_temporality,
        })
        .collect()
}

/// The points of the agent's own telemetry (resource `service.name = qdrant-otel-agent`).
pub fn agent_points(requests: &[ExportMetricsServiceRequest]) -> Vec<FlatPoint> {
    flatten(requests)
        .into_iter()
        .filter(|p| p.resource.get("service.name").map(String::as_str) == Some("qdrant-otel-agent"))
        .collect()
}

/// The newest value of one series of the agent's own telemetry, if it was exported.
pub fn last_agent_value(
    requests: &[ExportMetricsServiceRequest],
    metric: &str,
    attrs: &[(&str, &str)],
) -> Option<f64> {
    agent_points(requests)
        .into_iter()
        .filter(|p| {
            p.metric == metric
                && attrs
                    .iter()
                    .all(|(k, v)| p.attributes.get(*k).map(String::as_str) == Some(*v))
        })
        .max_by_key(|p| p.time_unix_nano)
        .map(|p| p.value)
}

/// The points of the last export of the resource with this `service.instance.id`: those of the
/// last request carrying it, and of the other requests of the same export (a large export is
/// split into several requests, all with the export's time).
pub fn last_export_for(requests: &[ExportMetricsServiceRequest], instance: &str) -> Vec<FlatPoint> {
    let of_instance = |request: &ExportMetricsServiceRequest| -> Vec<FlatPoint> {
        flatten(std::slice::from_ref(request))
            .into_iter()
            .filter(|p| p.resource.get("service.instance.id").map(String::as_str) == Some(instance))
            .collect()
    };
    let Some(last) = requests
        .iter()
        .rev()
        .map(of_instance)
        .find(|points| !points.is_empty())
    else {
        return Vec::new();
    };
    let time = last[0].time_unix_nano;
    requests
        .iter()
        .flat_map(of_instance)
        .filter(|p| p.time_unix_nano == time)
        .collect()
}

/// The requests of each export of this resource, in order (grouped by the export's time).
pub fn exports_for(
    requests: &[ExportMetricsServiceRequest],
    instance: &str,
) -> Vec<Vec<Vec<FlatPoint>>> {
    let mut exports: Vec<Vec<Vec<FlatPoint>>> = Vec::new();
    for request in requests {
        let points: Vec<FlatPoint> = flatten(std::slice::from_ref(request))
            .into_iter()
            .filter(|p| p.resource.get("service.instance.id").map(String::as_str) == Some(instance))
            .collect();
        let Some(time) = points.first().map(|p| p.time_unix_nano) else {
            continue;
        };
        match exports.last_mut() {
            Some(export) if export[0][0].time_unix_nano == time => export.push(points),
            _ => exports.push(vec![points]),
        }
    }
    exports
}

/// Exactly one point by metric name and a subset of attributes.
pub fn find_point<'a>(
    points: &'a [FlatPoint],
    metric: &str,
    attrs: &[(&str, &str)],
) -> &'a FlatPoint {
    let matching: Vec<&FlatPoint> = points
        .iter()
        .filter(|p| {
            p.metric == metric
                && attrs
                    .iter()
                    .all(|(k, v)| p.attributes.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    match matching.as_slice() {
        [one] => one,
        _ => {
            let candidates: Vec<_> = points
                .iter()
                .filter(|p| p.metric == metric)
                .map(|p| &p.attributes)
                .collect();
            panic!(
                "expected one {metric} with {attrs:?}, found {}; candidates: {candidates:?}",
                matching.len()
            )
        }
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`), in KiB; 0 when unreadable.
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
