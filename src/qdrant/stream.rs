//! Large JSON bodies parsed as they arrive, never held whole: the body's chunks go through a
//! small bounded channel to a blocking parser thread (`serde_json::from_reader`), so the memory
//! a response takes is a few chunks plus what the model keeps — not its size. A level-4
//! telemetry of 10,000 collections is ~47 MB of JSON; the model kept from it is a fraction.
//!
//! Parsing from a reader costs more CPU per byte than parsing a buffer, so only bodies over
//! [`STREAM_ABOVE`] (or of undeclared length) take this path (`client.rs`).

use std::io::{self, BufReader, Read};

use bytes::{Buf, Bytes};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::error::QdrantError;

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

/// Parse `response`'s body as `T` while it streams in, within `max_bytes`.
pub async fn parse<T: DeserializeOwned + Send + 'static>(
    url: &str,
    mut response: reqwest::Response,
    max_bytes: u64,
    transport_error: impl Fn(reqwest::Error) -> QdrantError,
) -> Result<T, QdrantError> {
    let too_large = || QdrantError::TooLarge {
        url: url.to_string(),
        limit: max_bytes,
    };
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Err(too_large());
    }
    let (sender, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let parser = tokio::task::spawn_blocking(move || {
        let reader = BufReader::new(ChunkReader {
            chunks,
            current: Bytes::new(),
        });
        serde_json::from_reader::<_, T>(reader)
    });
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
    parsed.map_err(|e| QdrantError::Decode {
        url: url.to_string(),
        reason: e.to_string(),
    })
}
