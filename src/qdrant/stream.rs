//! Large JSON bodies parsed as they arrive, never held whole: the body's chunks go through a
//! small bounded channel to a blocking parser thread, so the memory a response takes is a few
//! chunks plus what the model keeps — not its size. A level-4 telemetry of 10,000 collections
//! is ~47 MB of JSON; the model kept from it is a fraction.
//!
//! A body whose bulk is one array (telemetry's collection list) is taken apart element by
//! element ([`Split`], `split.rs`), each read from a buffer by the pull reader; so is such a
//! body read whole ([`parse_whole`]), so that both read it alike. Any other is parsed with
//! `serde_json::from_reader`, which costs about twice as much CPU per byte, so only bodies over
//! [`STREAM_ABOVE`] (or of undeclared length) take this path (`client.rs`).

use std::io::{self, BufReader, Read};

use bytes::{Buf, Bytes};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::client::Envelope;
use super::error::QdrantError;
use super::models::{CollectionTelemetry, Telemetry};
use super::split::Splitter;

/// How to take a body apart: the array at `path` (object keys from the root) is read element
/// by element by the pull reader (`scan_de.rs`), and the elements are handed back with the rest of the document
/// parsed.
pub struct Split<T, E> {
    pub path: &'static [&'static str],
    pub put_back: fn(&mut T, Vec<E>),
}

/// A telemetry response is taken apart at its collection list, nearly all of its bytes, each
/// collection read by the pull reader (`scan_de.rs`; at level 4 its segments summed in place).
pub(super) const TELEMETRY_SPLIT: Split<Envelope<Telemetry>, CollectionTelemetry> = Split {
    path: &["result", "collections", "collections"],
    put_back: |envelope, list| {
        let slot = envelope
            .result
            .as_mut()
            .and_then(|t| t.collections.as_mut());
        if let Some(slot) = slot.and_then(|c| c.collections.as_mut()) {
            slot.extend(list);
        }
    },
};

/// A telemetry body read whole, as the client reads one, for the examples and fuzz targets
/// that measure or try the client's parsing without a server.
pub fn decode_telemetry(body: &[u8]) -> Result<Telemetry, String> {
    let envelope = parse_whole(body.to_vec(), TELEMETRY_SPLIT)?;
    envelope
        .result
        .ok_or_else(|| "the response has no `result` field".to_string())
}

/// Bodies larger than this, or of undeclared length, are parsed as they arrive.
pub const STREAM_ABOVE: u64 = 8 * 1024 * 1024;

/// Chunks in flight between the network and the parser.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The body as `io::Read`, fed chunk by chunk from the network side.
struct ChunkReader {
    chunks: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while !self.current.has_remaining() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk,
                // The end of the body (or the network side gave up: the parser then sees a
                // truncated document, and the network side's error is the one reported).
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        self.current.copy_to_slice(&mut buf[..n]);
        Ok(n)
    }
}

/// Parse `response`'s body as `T` while it streams in, within `max_bytes`; taken apart as
/// `split` says, if given.
pub async fn parse<T, E>(
    url: &str,
    response: reqwest::Response,
    max_bytes: u64,
    transport_error: impl Fn(reqwest::Error) -> QdrantError,
    split: Option<Split<T, E>>,
) -> Result<T, QdrantError>
where
    T: DeserializeOwned + Send + 'static,
    E: DeserializeOwned + Send + 'static,
{
    match split {
        Some(split) => {
            let parser = move |chunks| parse_split(chunks, split);
            pump(url, response, max_bytes, transport_error, parser).await
        }
        None => pump(url, response, max_bytes, transport_error, parse_read).await,
    }
}

/// The whole body through `io::Read`.
fn parse_read<T: DeserializeOwned>(chunks: mpsc::Receiver<Bytes>) -> Result<T, String> {
    let reader = BufReader::new(ChunkReader {
        chunks,
        current: Bytes::new(),
    });
    serde_json::from_reader(reader).map_err(|e| e.to_string())
}

/// The body taken apart at `split.path`. On an error the chunks' receiver is dropped, which
/// stops the network side.
fn parse_split<T: DeserializeOwned, E: DeserializeOwned>(
    mut chunks: mpsc::Receiver<Bytes>,
    split: Split<T, E>,
) -> Result<T, String> {
    split_all(split, |splitter| {
        while let Some(chunk) = chunks.blocking_recv() {
            splitter.feed(&chunk)?;
        }
        Ok(())
    })
}

/// A body already read whole, taken apart as `split` says: its elements are read as a
/// streamed body's are, from the body itself (the splitter takes it as its buffer), so that
/// it is neither copied nor held twice.
pub fn parse_whole<T: DeserializeOwned, E: DeserializeOwned>(
    body: Vec<u8>,
    split: Split<T, E>,
) -> Result<T, String> {
    split_all(split, |splitter| splitter.feed_owned(body))
}

fn split_all<T: DeserializeOwned, E: DeserializeOwned>(
    split: Split<T, E>,
    feed: impl FnOnce(&mut Splitter<E>) -> Result<(), serde_json::Error>,
) -> Result<T, String> {
    let mut splitter = Splitter::<E>::new(split.path);
    feed(&mut splitter).map_err(|e| e.to_string())?;
    let (mut parsed, elements) = splitter.finish::<T>().map_err(|e| e.to_string())?;
    (split.put_back)(&mut parsed, elements);
    Ok(parsed)
}

/// Feed the body's chunks to `parser`, run on a blocking thread, within `max_bytes`.
async fn pump<T: Send + 'static>(
    url: &str,
    mut response: reqwest::Response,
    max_bytes: u64,
    transport_error: impl Fn(reqwest::Error) -> QdrantError,
    parser: impl FnOnce(mpsc::Receiver<Bytes>) -> Result<T, String> + Send + 'static,
) -> Result<T, QdrantError> {
    let too_large = || QdrantError::TooLarge {
        url: url.to_string(),
        limit: max_bytes,
    };
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    let (sender, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let parser = tokio::task::spawn_blocking(move || parser(chunks));
    let mut read = 0u64;
    let mut failure = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                read += chunk.len() as u64;
                if read > max_bytes {
                    failure = Some(too_large());
                    break;
                }
                if sender.send(chunk).await.is_err() {
                    // The parser stopped early (the document is invalid): its error is the one.
                    break;
                }
            }
            Ok(None) => break,
            Err(error) => {
                failure = Some(transport_error(error));
                break;
            }
        }
    }
    drop(sender);
    let parsed = parser.await.map_err(|e| QdrantError::Decode {
        url: url.to_string(),
        reason: format!("the parser stopped: {e}"),
    })?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    parsed.map_err(|reason| QdrantError::Decode {
        url: url.to_string(),
        reason,
    })
}
