//! Large JSON bodies parsed as they arrive, never held whole: the body's chunks go through a
//! small bounded channel to a blocking parser thread, so the memory a response takes is a few
//! chunks plus what the model keeps — not its size. A level-4 telemetry of 10,000 collections
//! is ~47 MB of JSON; the model kept from it is a fraction.
//!
//! A body whose bulk is one array (telemetry's collection list) is taken apart element by
//! element ([`Split`], `split.rs`), each read by the pull reader where it lies in its chunk:
//! on the blocking thread when large, or on the request's own task as its chunks arrive
//! ([`parse_inline`]), so that no such body is ever held whole. Any other is parsed with
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

/// A telemetry body read whole, as the client reads one (as one chunk), for the examples and
/// fuzz targets that measure or try the client's parsing without a server.
pub fn decode_telemetry(body: &[u8]) -> Result<Telemetry, String> {
    let envelope = parse_whole(body, TELEMETRY_SPLIT)?;
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
/// streamed body's are, in place.
pub fn parse_whole<T: DeserializeOwned, E: DeserializeOwned>(
    body: &[u8],
    split: Split<T, E>,
) -> Result<T, String> {
    split_all(split, |splitter| splitter.feed(body))
}

/// Parse `response`'s body (within `max_bytes`, and of [`STREAM_ABOVE`] at most) taken apart
/// as `split` says, each chunk as it arrives, on this task: the body is never copied whole,
/// and no thread is woken for it.
pub async fn parse_inline<T: DeserializeOwned, E: DeserializeOwned>(
    url: &str,
    mut response: reqwest::Response,
    max_bytes: u64,
    transport_error: impl Fn(reqwest::Error) -> QdrantError,
    split: Split<T, E>,
) -> Result<T, QdrantError> {
    let decode = |reason: String| QdrantError::Decode {
        url: url.to_string(),
        reason,
    };
    let mut splitter = Splitter::<E>::new(split.path);
    let mut body = Limited::new(url, &response, max_bytes)?;
    while let Some(chunk) = body.next(&mut response, &transport_error).await? {
        splitter.feed(&chunk).map_err(|e| decode(e.to_string()))?;
    }
    finish_split(splitter, split).map_err(decode)
}

fn split_all<T: DeserializeOwned, E: DeserializeOwned>(
    split: Split<T, E>,
    feed: impl FnOnce(&mut Splitter<E>) -> Result<(), serde_json::Error>,
) -> Result<T, String> {
    let mut splitter = Splitter::<E>::new(split.path);
    feed(&mut splitter).map_err(|e| e.to_string())?;
    finish_split(splitter, split)
}

/// The elements put back into the document around them.
fn finish_split<T: DeserializeOwned, E: DeserializeOwned>(
    splitter: Splitter<E>,
    split: Split<T, E>,
) -> Result<T, String> {
    let (mut parsed, elements) = splitter.finish::<T>().map_err(|e| e.to_string())?;
    (split.put_back)(&mut parsed, elements);
    Ok(parsed)
}

/// A body's chunks, counted against its cap (`qdrant.max_response_bytes`): for every body
/// the client reads, whole or as it arrives.
pub(super) struct Limited<'u> {
    url: &'u str,
    limit: u64,
    read: u64,
}

impl<'u> Limited<'u> {
    /// Refused at once when the declared length is over `limit`.
    pub(super) fn new(
        url: &'u str,
        response: &reqwest::Response,
        limit: u64,
    ) -> Result<Self, QdrantError> {
        let body = Limited {
            url,
            limit,
            read: 0,
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(body.too_large());
        }
        Ok(body)
    }

    /// The next chunk; `None` at the end.
    pub(super) async fn next(
        &mut self,
        response: &mut reqwest::Response,
        transport_error: impl Fn(reqwest::Error) -> QdrantError,
    ) -> Result<Option<Bytes>, QdrantError> {
        let chunk = response.chunk().await.map_err(transport_error)?;
        if let Some(chunk) = &chunk {
            self.read += chunk.len() as u64;
            if self.read > self.limit {
                return Err(self.too_large());
            }
        }
        Ok(chunk)
    }

    fn too_large(&self) -> QdrantError {
        QdrantError::TooLarge {
            url: self.url.to_string(),
            limit: self.limit,
        }
    }
}

/// Feed the body's chunks to `parser`, run on a blocking thread, within `max_bytes`.
async fn pump<T: Send + 'static>(
    url: &str,
    mut response: reqwest::Response,
    max_bytes: u64,
    transport_error: impl Fn(reqwest::Error) -> QdrantError,
    parser: impl FnOnce(mpsc::Receiver<Bytes>) -> Result<T, String> + Send + 'static,
) -> Result<T, QdrantError> {
    let mut body = Limited::new(url, &response, max_bytes)?;
    let (sender, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let parser = tokio::task::spawn_blocking(move || parser(chunks));
    let mut failure = None;
    loop {
        match body.next(&mut response, &transport_error).await {
            Ok(Some(chunk)) => {
                if sender.send(chunk).await.is_err() {
                    // The parser stopped early (the document is invalid): its error is the one.
                    break;
                }
            }
            Ok(None) => break,
            Err(error) => {
                failure = Some(error);
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
