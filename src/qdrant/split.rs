//! A JSON document read chunk by chunk, its one large array taken apart as it arrives: each
//! element of the array at a given path (telemetry's collection list) is parsed on its own, from
//! a buffer, as soon as the buffer holds it, and dropped from the buffer; everything around the
//! array (small) is kept and parsed once the document is complete, with the array left empty.
//!
//! Why not `serde_json::from_reader`: it reads through `io::Read` one byte at a time, which
//! costs about twice as much as parsing the same bytes from a buffer (docs/performance.md),
//! and a level-4 telemetry is megabytes. Holding the whole body to parse it from a buffer would
//! cost its size in memory (~47 MB at 10,000 collections); here the buffer holds a few hundred
//! KiB and one element at most.
//!
//! The scanner only follows the nesting around the array (brackets, strings and the keys on
//! the path); each element is read, and found to end, by the pull reader (`scan_de.rs`), and
//! the document around them is checked by serde_json.

use serde::de::{DeserializeOwned, Error as _};

use super::scan_de::read_element;

/// Unparsed bytes gathered before elements are parsed from them: an element cut by the end of
/// the buffer is parsed again once more has arrived, so the buffer holds many elements at once.
const BATCH: usize = 256 * 1024;

/// Where the scanner is: outside the array, or in it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Outside,
    Elements(Next),
}

/// What may come next in the array.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Next {
    /// Right after `[`: an element or `]`.
    FirstOrEnd,
    /// After `,`: an element.
    Element,
    /// After an element: `,` or `]`.
    CommaOrEnd,
}

/// One open object or array outside the split array.
#[derive(Debug, Clone)]
struct Frame {
    object: bool,
    /// How many keys of the path lead here (`None`: off the path).
    depth: Option<usize>,
    /// In an object: the next string is a key.
    expect_key: bool,
    /// The last key read is the next one of the path: its value, if an object or an array,
    /// is on the path.
    key_on_path: bool,
}

/// Takes the document's bytes as they come (`feed`), then gives the elements and the rest of
/// the document parsed (`finish`).
pub struct Splitter<E> {
    path: &'static [&'static str],
    buffer: Vec<u8>,
    /// Bytes of `buffer` already handled.
    at: usize,
    mode: Mode,
    stack: Vec<Frame>,
    in_string: bool,
    escaped: bool,
    /// The key being read, when it may be on the path.
    key: Option<Vec<u8>>,
    /// The document without the elements of the array.
    rest: Vec<u8>,
    elements: Vec<E>,
    /// Unparsed bytes to gather before parsing elements ([`BATCH`]; less in tests).
    batch: usize,
    /// Unparsed bytes to wait for before parsing elements again.
    wanted: usize,
}

impl<E: DeserializeOwned> Splitter<E> {
    /// Split out the elements of the array at `path` (object keys from the document's root).
    pub fn new(path: &'static [&'static str]) -> Splitter<E> {
        Splitter::with_batch(path, BATCH)
    }

    fn with_batch(path: &'static [&'static str], batch: usize) -> Splitter<E> {
        Splitter {
            path,
            buffer: Vec::new(),
            at: 0,
            mode: Mode::Outside,
            stack: Vec::new(),
            in_string: false,
            escaped: false,
            key: None,
            rest: Vec::new(),
            elements: Vec::new(),
            batch,
            wanted: batch,
        }
    }

    /// The next bytes of the document.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), serde_json::Error> {
        self.buffer.extend_from_slice(chunk);
        self.advance(false)
    }

    /// The document, or its next bytes, handed over: taken as the buffer when the buffer holds
    /// nothing (a body read whole), not copied.
    pub fn feed_owned(&mut self, chunk: Vec<u8>) -> Result<(), serde_json::Error> {
        if self.buffer.is_empty() {
            self.buffer = chunk;
            self.at = 0;
        } else {
            self.buffer.extend_from_slice(&chunk);
        }
        self.advance(false)
    }

    /// The end of the document: the elements, and the document around them parsed as `T`.
    pub fn finish<T: DeserializeOwned>(mut self) -> Result<(T, Vec<E>), serde_json::Error> {
        self.advance(true)?;
        let rest = std::str::from_utf8(&self.rest).map_err(not_utf8)?;
        let parsed = serde_json::from_str(rest)?;
        Ok((parsed, self.elements))
    }

    fn advance(&mut self, end: bool) -> Result<(), serde_json::Error> {
        loop {
            match self.mode {
                Mode::Outside => {
                    if !self.scan_outside() {
                        break;
                    }
                }
                Mode::Elements(_) => {
                    let unparsed = self.buffer.len() - self.at;
                    if !end && unparsed < self.wanted {
                        break;
                    }
                    self.parse_elements(end)?;
                    if matches!(self.mode, Mode::Elements(_)) {
                        break;
                    }
                }
            }
        }
        self.buffer.drain(..self.at);
        self.at = 0;
        Ok(())
    }

    /// Follow the document outside the array, keeping its bytes (but whitespace between
    /// tokens, so that a body of endless whitespace is not kept), until the array opens (true)
    /// or the buffer ends (false).
    fn scan_outside(&mut self) -> bool {
        while self.at < self.buffer.len() {
            if self.in_string && !self.escaped && self.key.is_none() {
                // A string's run up to its next quote or backslash is kept in one piece: the
                // document around the array is mostly strings (endpoints, names, messages).
                let ahead = &self.buffer[self.at..];
                let run = memchr::memchr2(b'"', b'\\', ahead).unwrap_or(ahead.len());
                self.rest.extend_from_slice(&ahead[..run]);
                self.at += run;
                if run == ahead.len() {
                    break;
                }
            }
            let byte = self.buffer[self.at];
            self.at += 1;
            if self.in_string {
                self.rest.push(byte);
                self.string_byte(byte);
            } else if !is_whitespace(byte) {
                self.rest.push(byte);
                if self.structural(byte) {
                    return true;
                }
            }
        }
        false
    }

    fn string_byte(&mut self, byte: u8) {
        if self.escaped {
            self.escaped = false;
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.in_string = false;
            if let Some(key) = self.key.take() {
                self.key_read(&key);
                return;
            }
        }
        if let Some(key) = &mut self.key {
            key.push(byte);
        }
    }

    /// A key of an object on the path has been read (as written: a key with escapes never
    /// matches, and its array is then read whole with the rest of the document).
    fn key_read(&mut self, key: &[u8]) {
        let path = self.path;
        if let Some(frame) = self.stack.last_mut() {
            frame.key_on_path = frame
                .depth
                .and_then(|depth| path.get(depth))
                .is_some_and(|next| next.as_bytes() == key);
        }
    }

    /// A byte outside strings; true when it opens the array to split.
    fn structural(&mut self, byte: u8) -> bool {
        match byte {
            b'"' => {
                self.in_string = true;
                let on_path = self
                    .stack
                    .last()
                    .is_some_and(|f| f.object && f.expect_key && f.depth.is_some());
                self.key = on_path.then(Vec::new);
            }
            b':' => {
                if let Some(frame) = self.stack.last_mut() {
                    frame.expect_key = false;
                }
            }
            b',' => {
                if let Some(frame) = self.stack.last_mut() {
                    frame.expect_key = frame.object;
                    frame.key_on_path = false;
                }
            }
            b'{' | b'[' => {
                let depth = match self.stack.last() {
                    None => Some(0),
                    Some(frame) if frame.key_on_path => frame.depth.map(|d| d + 1),
                    Some(_) => None,
                };
                if byte == b'[' && depth == Some(self.path.len()) {
                    self.mode = Mode::Elements(Next::FirstOrEnd);
                    return true;
                }
                self.stack.push(Frame {
                    object: byte == b'{',
                    depth,
                    expect_key: byte == b'{',
                    key_on_path: false,
                });
            }
            b'}' | b']' => {
                self.stack.pop();
            }
            _ => {}
        }
        false
    }

    /// Parse the array's elements from the buffer, as far as it holds them whole.
    fn parse_elements(&mut self, end: bool) -> Result<(), serde_json::Error> {
        let unparsed = &self.buffer[self.at..];
        let text = match std::str::from_utf8(unparsed) {
            Ok(text) => text,
            // A character cut by the end of the buffer: the rest comes with the next chunk.
            Err(e) if e.error_len().is_none() && !end => {
                std::str::from_utf8(&unparsed[..e.valid_up_to()]).map_err(not_utf8)?
            }
            Err(e) => return Err(not_utf8(e)),
        };
        let mut used = 0;
        let outcome = split_elements(text, &mut used, &mut self.mode, end, &mut self.elements);
        self.at += used;
        match outcome? {
            // An element larger than the batch is parsed again only once the buffer has
            // doubled, so that it costs at most twice its size, not once per chunk.
            Some(cut) => self.wanted = self.batch.max(cut.saturating_mul(2)),
            None => {
                self.wanted = self.batch;
                if self.mode == Mode::Outside {
                    self.rest.extend_from_slice(b"]");
                }
            }
        }
        Ok(())
    }
}

/// Parse elements from `text` until its end or the array's: `Some(n)` when the next element is
/// cut by the end of `text` after `n` bytes, `None` otherwise (the array closed: `mode` is then
/// `Outside`). `used` is how much of `text` was taken.
fn split_elements<E: DeserializeOwned>(
    text: &str,
    used: &mut usize,
    mode: &mut Mode,
    end: bool,
    elements: &mut Vec<E>,
) -> Result<Option<usize>, serde_json::Error> {
    let Mode::Elements(next) = mode else {
        return Ok(None);
    };
    loop {
        let tail = &text[*used..];
        let skipped = tail.len() - tail.trim_start_matches([' ', '\t', '\n', '\r']).len();
        *used += skipped;
        let tail = &text[*used..];
        let Some(&byte) = tail.as_bytes().first() else {
            return if end {
                Err(serde_json::Error::custom("EOF while parsing a list"))
            } else {
                Ok(Some(0))
            };
        };
        match (byte, *next) {
            (b']', Next::FirstOrEnd | Next::CommaOrEnd) => {
                *used += 1;
                *mode = Mode::Outside;
                return Ok(None);
            }
            (b',', Next::CommaOrEnd) => {
                *used += 1;
                *next = Next::Element;
            }
            (_, Next::CommaOrEnd) => {
                return Err(serde_json::Error::custom("expected `,` or `]` in a list"));
            }
            (b']', Next::Element) => {
                return Err(serde_json::Error::custom("trailing comma in a list"));
            }
            (_, Next::FirstOrEnd | Next::Element) => match read_element(tail, end)? {
                Some((element, taken)) => {
                    elements.push(element);
                    *used += taken;
                    *next = Next::CommaOrEnd;
                }
                None => return Ok(Some(tail.len())),
            },
        }
    }
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

fn not_utf8(e: std::str::Utf8Error) -> serde_json::Error {
    serde_json::Error::custom(format!("the body is not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
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
        let mut splitter = Splitter::<Item>::with_batch(PATH, 1);
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
            assert!(splitter.buffer.len() + splitter.rest.len() < BATCH + spaces.len() + 1024);
        }
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut document = br#"{"result":{"items":[{"id":"#.to_vec();
        document.extend_from_slice(&[b'"', 0xff, b'"', b'}', b']', b'}', b'}']);
        let mut splitter = Splitter::<Item>::with_batch(PATH, 1);
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
            let mut splitter = Splitter::<CollectionTelemetry>::with_batch(
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
}
