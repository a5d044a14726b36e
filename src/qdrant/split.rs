//! A JSON document read chunk by chunk, its one large array taken apart as it arrives: each
//! element of the array at a given path (telemetry's collection list) is parsed on its own,
//! where it lies in the chunk, as soon as a chunk holds it whole; only the element a chunk cuts
//! is copied, and completed from the next. Everything around the array (small) is kept and
//! parsed once the document is complete, with the array left empty.
//!
//! Why not `serde_json::from_reader`: it reads through `io::Read` one byte at a time, which
//! costs about twice as much as parsing the same bytes from a buffer (docs/performance.md),
//! and a level-4 telemetry is megabytes. Holding the whole body to parse it from a buffer would
//! cost its size in memory (~47 MB at 10,000 collections); here the buffer holds about one
//! element, and no byte is copied but those of the elements the chunks cut.
//!
//! The scanner only follows the nesting around the array (brackets, strings and the keys on
//! the path); each element is read, and found to end, by the pull reader (`scan_de.rs`), and
//! the document around them is checked by serde_json.

use serde::de::{DeserializeOwned, Error as _};

use super::scan_de::read_element;

/// The fewest bytes gathered around an element cut by the end of a chunk before it is parsed
/// again (more when elements are larger: see [`Splitter::feed`]).
const LEAST_GATHERED: usize = 4 * 1024;

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
    /// What a chunk left unread (an element it cut, or a character): completed from the next.
    buffer: Vec<u8>,
    mode: Mode,
    stack: Vec<Frame>,
    in_string: bool,
    escaped: bool,
    /// The key being read, when it may be on the path.
    key: Option<Vec<u8>>,
    /// The document without the elements of the array.
    rest: Vec<u8>,
    elements: Vec<E>,
    /// The bytes of the elements read, so that their typical size is known.
    element_bytes: usize,
    /// The fewest bytes to gather in `buffer` before parsing it ([`LEAST_GATHERED`]; 1 in
    /// tests, so that every cut is tried).
    least: usize,
    /// Bytes to gather in `buffer` before parsing it again.
    wanted: usize,
    /// Bytes copied into `buffer` so far: a small part of the document when its chunks are
    /// larger than its elements (tests).
    copied: usize,
}

/// How reading elements stopped.
enum Stop {
    /// The next element is cut by the end of the text.
    Cut,
    /// The array closed.
    Closed,
    /// An element ended at or past the position asked for.
    Reached,
}

impl<E: DeserializeOwned> Splitter<E> {
    /// Split out the elements of the array at `path` (object keys from the document's root).
    pub fn new(path: &'static [&'static str]) -> Splitter<E> {
        Splitter::with_least(path, LEAST_GATHERED)
    }

    fn with_least(path: &'static [&'static str], least: usize) -> Splitter<E> {
        Splitter {
            path,
            buffer: Vec::new(),
            mode: Mode::Outside,
            stack: Vec::new(),
            in_string: false,
            escaped: false,
            key: None,
            rest: Vec::new(),
            elements: Vec::new(),
            element_bytes: 0,
            least,
            wanted: least,
            copied: 0,
        }
    }

    /// The next bytes of the document. They are read where they lie; only what they leave
    /// unread (the element cut by their end) is copied, and completed from the next chunk's
    /// first bytes: as many as that element is likely to need, so that the rest of that
    /// chunk is read in place too. A level-4 body was otherwise copied whole, chunk by chunk.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), serde_json::Error> {
        // Bytes of the buffer from earlier chunks, and of this chunk copied after them.
        let (mut held, mut taken) = (self.buffer.len(), 0);
        while !self.buffer.is_empty() {
            let more = self.wanted.saturating_sub(self.buffer.len());
            let more = more.min(chunk.len() - taken);
            self.buffer.extend_from_slice(&chunk[taken..taken + more]);
            taken += more;
            self.copied += more;
            if self.buffer.len() < self.wanted {
                return Ok(());
            }
            // Read from the buffer only as long as elements start in what came before this
            // chunk: past that, the bytes are the chunk's, read in place.
            let buffer = std::mem::take(&mut self.buffer);
            let used = self.read(&buffer, false, held);
            self.buffer = buffer;
            let used = used?;
            if used >= held {
                self.buffer.clear();
                chunk = &chunk[used - held..];
                break;
            }
            // The element is larger than was gathered: gather more (`wanted` has grown).
            self.buffer.drain(..used);
            held -= used;
        }
        let used = self.read(chunk, false, usize::MAX)?;
        self.buffer.extend_from_slice(&chunk[used..]);
        self.copied += chunk.len() - used;
        Ok(())
    }

    /// The end of the document: the elements, and the document around them parsed as `T`.
    pub fn finish<T: DeserializeOwned>(mut self) -> Result<(T, Vec<E>), serde_json::Error> {
        let buffer = std::mem::take(&mut self.buffer);
        self.read(&buffer, true, usize::MAX)?;
        let rest = utf8(&self.rest).map_err(not_utf8)?;
        let parsed = serde_json::from_str(rest)?;
        Ok((parsed, self.elements))
    }

    /// Read `data` as far as it goes (or, in the array, until an element ends at or past
    /// `stop_at`); how many of its bytes were taken.
    fn read(&mut self, data: &[u8], end: bool, stop_at: usize) -> Result<usize, serde_json::Error> {
        let mut at = 0;
        loop {
            match self.mode {
                Mode::Outside => {
                    if !self.scan_outside(data, &mut at) {
                        break;
                    }
                }
                Mode::Elements(_) => {
                    if !self.parse_elements(data, &mut at, end, stop_at)? {
                        break;
                    }
                }
            }
        }
        Ok(at)
    }

    /// Follow the document outside the array, keeping its bytes (but whitespace between
    /// tokens, so that a body of endless whitespace is not kept), until the array opens (true)
    /// or the buffer ends (false).
    fn scan_outside(&mut self, data: &[u8], at: &mut usize) -> bool {
        while *at < data.len() {
            if self.in_string && !self.escaped && self.key.is_none() {
                // A string's run up to its next quote or backslash is kept in one piece: the
                // document around the array is mostly strings (endpoints, names, messages).
                let ahead = &data[*at..];
                let run = memchr::memchr2(b'"', b'\\', ahead).unwrap_or(ahead.len());
                self.rest.extend_from_slice(&ahead[..run]);
                *at += run;
                if run == ahead.len() {
                    break;
                }
            }
            let byte = data[*at];
            *at += 1;
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

    /// Parse the array's elements from `data` at `at`, as far as it holds them whole (or until
    /// one ends at or past `stop_at`); true when the array closed.
    fn parse_elements(
        &mut self,
        data: &[u8],
        at: &mut usize,
        end: bool,
        stop_at: usize,
    ) -> Result<bool, serde_json::Error> {
        let unparsed = &data[*at..];
        let text = match utf8(unparsed) {
            Ok(text) => text,
            // A character cut by the end of the chunk: the rest comes with the next one.
            Err(e) if e.error_len().is_none() && !end => {
                utf8(&unparsed[..e.valid_up_to()]).map_err(not_utf8)?
            }
            Err(e) => return Err(not_utf8(e)),
        };
        let mut reader = Elements {
            text,
            used: 0,
            stop_at: stop_at.saturating_sub(*at),
            bytes: 0,
        };
        let stop = reader.read(&mut self.mode, end, &mut self.elements);
        *at += reader.used;
        self.element_bytes += reader.bytes;
        match stop? {
            // Gathered again before the next try: what the elements' typical size says the
            // cut one needs, and at least twice what is left, so that an element larger than
            // expected costs at most twice its size.
            Stop::Cut => {
                let left = data.len() - *at;
                let typical = self.element_bytes / self.elements.len().max(1);
                self.wanted = self.least.max(left * 2).max(left + typical * 2);
                Ok(false)
            }
            Stop::Reached => Ok(false),
            Stop::Closed => {
                self.rest.extend_from_slice(b"]");
                Ok(true)
            }
        }
    }
}

/// Elements read from `text`: `used` bytes of it taken, `bytes` of them in elements.
struct Elements<'t> {
    text: &'t str,
    used: usize,
    /// Stop once an element ends here or past it.
    stop_at: usize,
    bytes: usize,
}

impl Elements<'_> {
    /// Parse elements until the end of the text, the array's, or `stop_at`.
    fn read<E: DeserializeOwned>(
        &mut self,
        mode: &mut Mode,
        end: bool,
        elements: &mut Vec<E>,
    ) -> Result<Stop, serde_json::Error> {
        let Mode::Elements(next) = mode else {
            return Ok(Stop::Closed);
        };
        loop {
            if self.used >= self.stop_at {
                return Ok(Stop::Reached);
            }
            let tail = &self.text[self.used..];
            let skipped = tail.len() - tail.trim_start_matches([' ', '\t', '\n', '\r']).len();
            self.used += skipped;
            let tail = &self.text[self.used..];
            let Some(&byte) = tail.as_bytes().first() else {
                return if end {
                    Err(serde_json::Error::custom("EOF while parsing a list"))
                } else {
                    Ok(Stop::Cut)
                };
            };
            match (byte, *next) {
                (b']', Next::FirstOrEnd | Next::CommaOrEnd) => {
                    self.used += 1;
                    *mode = Mode::Outside;
                    return Ok(Stop::Closed);
                }
                (b',', Next::CommaOrEnd) => {
                    self.used += 1;
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
                        self.used += taken;
                        self.bytes += taken;
                        *next = Next::CommaOrEnd;
                    }
                    None => return Ok(Stop::Cut),
                },
            }
        }
    }
}

/// `bytes` as text, checked by SIMD where the CPU has it (a body's bytes are checked once, and
/// the standard check took ~1.5 % of a poll's instructions); what is wrong, and where, is told
/// by the standard check.
pub(super) fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

fn not_utf8(e: std::str::Utf8Error) -> serde_json::Error {
    serde_json::Error::custom(format!("the body is not UTF-8: {e}"))
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
