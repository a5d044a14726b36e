//! The splitter's tests: every cut of small documents, broken ones, whitespace, invalid
//! UTF-8, large chunks read in place, and the recorded level-4 telemetry cut anywhere.

use super::*;
use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq)]
struct Doc {
    result: Option<Outer>,
    status: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Outer {
    items: Option<Vec<Item>>,
    other: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Item {
    id: Option<String>,
    n: Option<f64>,
}

const PATH: &[&str] = &["result", "items"];

/// Parse `document` fed in pieces of `piece` bytes, the elements put back in place; elements
/// are parsed after every piece, so that each is also cut.
fn split(document: &str, piece: usize) -> Result<Doc, serde_json::Error> {
    let mut splitter = Splitter::<Item>::with_least(PATH, 1);
    for chunk in document.as_bytes().chunks(piece) {
        splitter.feed(chunk)?;
    }
    let (mut doc, items): (Doc, Vec<Item>) = splitter.finish()?;
    if let Some(list) = doc.result.as_mut().and_then(|r| r.items.as_mut()) {
        if list.is_empty() {
            *list = items;
        }
    }
    Ok(doc)
}

#[test]
fn any_cut_parses_as_the_whole_document_does() {
    let documents = [
        r#"{"status":"ok","result":{"other":{"items":[{"id":"no"}]},"items":[{"id":"a","n":-1.25},{"n":2.5e3},{"id":"é\"]"}]}}"#,
        r#" { "result" : { "items" : [ { "n" : 12 } , { "n" : 3 } ] , "other" : [1, {"items": []}] } } "#,
        r#"{"result":{"items":[]}}"#,
        r#"{"result":{"items":null,"other":"[{"}}"#,
        r#"{"result":{"it\u0065ms":[{"n":1}]}}"#,
        r#"{"result":null,"status":"x"}"#,
    ];
    for document in documents {
        let whole: Doc = serde_json::from_str(document).unwrap();
        for piece in 1..=document.len() {
            assert_eq!(
                split(document, piece).unwrap(),
                whole,
                "{document} by {piece}"
            );
        }
    }
}

#[test]
fn a_broken_document_is_an_error_however_cut() {
    let documents = [
        r#"{"result":{"items":[{"n":1},{"n":2}"#,
        r#"{"result":{"items":[{"n":1},]}}"#,
        r#"{"result":{"items":[{"n":1} {"n":2}]}}"#,
        r#"{"result":{"items":[,{"n":1}]}}"#,
        r#"{"result":{"items":[{"n":"x"}]}}"#,
        r#"{"result":{"items":[1]}}"#,
        r#"{"result":{"items":[{"n":1}]}} x"#,
        r#"{"result":{"items":[{"n":1}]"#,
    ];
    for document in documents {
        assert!(serde_json::from_str::<Doc>(document).is_err(), "{document}");
        for piece in 1..=document.len() {
            assert!(split(document, piece).is_err(), "{document} by {piece}");
        }
    }
}

/// Whitespace is not kept, before the document nor between elements: a body of endless
/// whitespace holds no memory.
#[test]
fn whitespace_is_not_kept() {
    let mut splitter = Splitter::<Item>::new(PATH);
    let spaces = vec![b' '; 64 * 1024];
    for start in [&b""[..], br#"{"result":{"items":[{"n":1},"#] {
        splitter.feed(start).unwrap();
        for _ in 0..64 {
            splitter.feed(&spaces).unwrap();
        }
        assert!(splitter.buffer.len() + splitter.rest.len() < 1024);
    }
}

/// Chunks larger than the elements are read where they lie: what is copied (the element
/// each chunk cuts, and what completes it from the next) is a small part of the document,
/// whatever the elements' sizes, and the result is the whole document's.
#[test]
fn large_chunks_are_read_in_place() {
    let items: Vec<String> = (0..20_000)
        .map(|i| {
            let id = if i % 97 == 0 {
                "é".repeat(5_000)
            } else {
                format!("item {i}")
            };
            format!(r#"{{"id":"{id}","n":{i}}}"#)
        })
        .collect();
    let largest = items.iter().map(String::len).max().unwrap_or_default();
    let document = format!(
        r#"{{"status":"ok","result":{{"items":[{}]}}}}"#,
        items.join(", ")
    );
    let whole: Doc = serde_json::from_str(&document).unwrap();
    for piece in [64 * 1024, 400 * 1024, 1000 * 1024] {
        let mut splitter = Splitter::<Item>::new(PATH);
        for chunk in document.as_bytes().chunks(piece) {
            splitter.feed(chunk).unwrap();
        }
        let copied = splitter.copied;
        let (mut doc, items): (Doc, Vec<Item>) = splitter.finish().unwrap();
        doc.result.as_mut().unwrap().items = Some(items);
        assert_eq!(doc, whole, "by {piece}");
        // Per chunk, the element it cuts and what completes it: under three times the
        // largest element (where the whole body was copied before).
        let chunks = document.len().div_ceil(piece);
        assert!(
            copied < chunks * 3 * largest && copied < document.len() / 4,
            "{copied} of {} bytes copied, by {piece}",
            document.len()
        );
    }
}

#[test]
fn invalid_utf8_is_an_error() {
    let mut document = br#"{"result":{"items":[{"id":"#.to_vec();
    document.extend_from_slice(&[b'"', 0xff, b'"', b'}', b']', b'}', b'}']);
    let mut splitter = Splitter::<Item>::with_least(PATH, 1);
    let fed = splitter.feed(&document);
    assert!(fed.is_err() || splitter.finish::<Doc>().is_err());
}

/// The recorded level-4 telemetry, cut anywhere, reads as serde_json reads it whole: the
/// pull reader reports a collection cut short as such, or the splitter would fail it.
#[test]
fn recorded_telemetry_reads_as_whole() {
    use crate::qdrant::models::{CollectionTelemetry, Telemetry};
    #[derive(Deserialize)]
    struct Envelope {
        result: Telemetry,
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/qdrant-1.18.3/single/telemetry@details_level-4.json"
    );
    let body = std::fs::read_to_string(path).unwrap();
    let whole: Envelope = serde_json::from_str(&body).unwrap();
    for piece in [13, 101, 1000, 4093] {
        let mut splitter = Splitter::<CollectionTelemetry>::with_least(
            &["result", "collections", "collections"],
            1,
        );
        for chunk in body.as_bytes().chunks(piece) {
            splitter.feed(chunk).unwrap();
        }
        let (mut split, list): (Envelope, _) = splitter.finish().unwrap();
        assert_eq!(list.len(), 5);
        let collections = split.result.collections.as_mut().unwrap();
        collections.collections = Some(list);
        assert_eq!(
            format!("{:?}", split.result),
            format!("{:?}", whole.result),
            "by {piece}"
        );
    }
}
