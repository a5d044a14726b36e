//! A small pull reader of JSON text, for telemetry's collection list, nearly all of a
//! telemetry's bytes (`scan_de.rs` puts it behind the serde models; `segment_scan.rs` reads
//! level-4 segments with it directly). serde_json spends on a value it skips about what it
//! spends on one it reads; this reader passes over a value by counting its brackets, and reads
//! only what is asked.
//!
//! What it reads it checks as JSON (structure, strings and their escapes, numbers, literals,
//! nesting depth); what it skips it checks for strings and the nesting of brackets only. The
//! text is `&str`, so already UTF-8. Running out of text is its own error,
//! [`ScanError::Eof`], so that a reader of a body still arriving can wait for more of it.
//! Lenient leaves read like `lenient.rs`: a value of another type reads as absent.

use std::borrow::Cow;

use smol_str::SmolStr;

mod lexical;
mod skip;

use lexical::{number_value, plain_run_end, skip_string};

/// serde_json's nesting limit, so that both readers refuse the same documents.
const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScanError {
    #[error("the JSON ends early")]
    Eof,
    #[error("{what} at byte {at}")]
    Syntax { what: &'static str, at: usize },
}

/// A position in JSON text; each method reads one value (or part of one) from there.
#[derive(Clone)]
pub struct Scan<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

type Result<T> = std::result::Result<T, ScanError>;

impl<'a> Scan<'a> {
    pub fn new(text: &'a str) -> Scan<'a> {
        Scan {
            text,
            at: 0,
            depth: 0,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.at
    }

    /// The text read since `from` (an earlier copy of this scan).
    pub fn since(&self, from: &Scan) -> &'a str {
        self.text.get(from.at..self.at).unwrap_or_default()
    }

    fn syntax<T>(&self, what: &'static str) -> Result<T> {
        Err(ScanError::Syntax { what, at: self.at })
    }

    /// The next byte that is not whitespace, not taken.
    #[inline(always)]
    pub fn peek(&mut self) -> Result<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&byte) = bytes.get(self.at) {
            if !matches!(byte, b' ' | b'\n' | b'\t' | b'\r') {
                return Ok(byte);
            }
            self.at += 1;
        }
        Err(ScanError::Eof)
    }

    fn nest(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.syntax("nesting too deep");
        }
        Ok(())
    }

    /// An object: `each` is called with every key and must read (or skip) its value.
    pub fn object(
        &mut self,
        mut each: impl FnMut(&mut Self, Cow<'a, str>) -> Result<()>,
    ) -> Result<()> {
        let mut first = self.open(b'{', "expected an object")?;
        while let Some(key) = self.next_key(&mut first)? {
            each(self, key)?;
        }
        Ok(())
    }

    /// An array: `each` is called at every element and must read (or skip) it.
    pub fn array(&mut self, mut each: impl FnMut(&mut Self) -> Result<()>) -> Result<()> {
        let mut first = self.open(b'[', "expected an array")?;
        while self.next_element(&mut first)? {
            each(self)?;
        }
        Ok(())
    }

    /// Past the opening bracket of an object or array; true (its first member is next).
    pub fn open(&mut self, bracket: u8, otherwise: &'static str) -> Result<bool> {
        if self.peek()? != bracket {
            return self.syntax(otherwise);
        }
        self.nest()?;
        self.at += 1;
        Ok(true)
    }

    /// In an object, past its opening bracket or a value: the next key (past its `:`), or
    /// `None` past the closing bracket. `first` is true until the first key is read.
    pub fn next_key(&mut self, first: &mut bool) -> Result<Option<Cow<'a, str>>> {
        if !self.next_member(b'}', first, "expected `,` or `}`")? {
            return Ok(None);
        }
        if self.peek()? != b'"' {
            return self.syntax("expected a key");
        }
        let key = self.string()?;
        if self.peek()? != b':' {
            return self.syntax("expected `:`");
        }
        self.at += 1;
        Ok(Some(key))
    }

    /// In an array, past its opening bracket or an element: true when an element is next,
    /// false past the closing bracket.
    pub fn next_element(&mut self, first: &mut bool) -> Result<bool> {
        self.next_member(b']', first, "expected `,` or `]`")
    }

    #[inline(always)]
    fn next_member(
        &mut self,
        close: u8,
        first: &mut bool,
        otherwise: &'static str,
    ) -> Result<bool> {
        let byte = self.peek()?;
        if byte == close {
            self.at += 1;
            self.depth -= 1;
            return Ok(false);
        }
        if !std::mem::take(first) {
            if byte != b',' {
                return self.syntax(otherwise);
            }
            self.at += 1;
        } else if byte == b',' {
            return self.syntax("expected a value");
        }
        Ok(true)
    }

    /// An object read with `each`, true; any other value skipped, false.
    pub fn object_or_skip(
        &mut self,
        each: impl FnMut(&mut Self, Cow<'a, str>) -> Result<()>,
    ) -> Result<bool> {
        if self.peek()? == b'{' {
            self.object(each)?;
            Ok(true)
        } else {
            self.skip()?;
            Ok(false)
        }
    }

    /// An array read with `each`, true; any other value skipped, false.
    pub fn array_or_skip(&mut self, each: impl FnMut(&mut Self) -> Result<()>) -> Result<bool> {
        if self.peek()? == b'[' {
            self.array(each)?;
            Ok(true)
        } else {
            self.skip()?;
            Ok(false)
        }
    }

    /// Any value, passed over. Only its strings and the nesting of its brackets are checked:
    /// what is skipped is not read, and a value read (by serde, or by the methods here) is
    /// checked in full.
    #[inline]
    pub fn skip(&mut self) -> Result<()> {
        match self.peek()? {
            b'{' | b'[' => self.skip_nested(),
            b'"' => {
                self.at =
                    skip_string(self.text.as_bytes(), self.at).map_err(|at| self.fault(at))?;
                Ok(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => {
                let bytes = self.text.as_bytes();
                let start = self.at;
                while bytes
                    .get(self.at)
                    .is_some_and(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                {
                    self.at += 1;
                }
                match self.at {
                    at if at == bytes.len() => Err(ScanError::Eof),
                    at if at == start => self.syntax("expected a value"),
                    _ => Ok(()),
                }
            }
        }
    }

    /// The error for a string that [`skip_string`] could not pass, at `at` (`None`: the text
    /// ended in it).
    fn fault(&self, at: Option<usize>) -> ScanError {
        match at {
            None => ScanError::Eof,
            Some(at) => ScanError::Syntax {
                what: "a control character or bad escape in a string",
                at,
            },
        }
    }

    /// A number, or a string holding one; anything else reads as absent.
    #[inline]
    pub fn number(&mut self) -> Result<Option<f64>> {
        match self.peek()? {
            b'"' => {
                let text = self.string()?;
                Ok(text.trim().parse().ok().filter(|n: &f64| n.is_finite()))
            }
            b'0'..=b'9' => match self.small_count() {
                Some(n) => Ok(Some(n as f64)),
                None => Ok(number_value(self.number_text()?)),
            },
            b'-' => Ok(number_value(self.number_text()?)),
            _ => self.skip().map(|()| None),
        }
    }

    /// A whole number of at most 15 digits, taken, when one is next (most of telemetry's
    /// numbers are counts): its value, exact, without checking its text twice; anything else
    /// (a fraction, an exponent, a leading zero, the text's end) is left to `number_text`.
    #[inline(always)]
    fn small_count(&mut self) -> Option<u64> {
        let bytes = self.text.as_bytes();
        let (mut at, mut n) = (self.at, 0u64);
        while let Some(&digit) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
            n = n * 10 + u64::from(digit - b'0');
            at += 1;
            if at - self.at > 15 {
                return None;
            }
        }
        let digits = at - self.at;
        let leading_zero = digits > 1 && bytes[self.at] == b'0';
        match bytes.get(at) {
            _ if digits == 0 => None,
            Some(b'.' | b'e' | b'E') | None => None,
            Some(_) if leading_zero => None,
            Some(_) => {
                self.at = at;
                Some(n)
            }
        }
    }

    /// A string, or a number or boolean as written; anything else reads as absent.
    #[inline]
    pub fn text(&mut self) -> Result<Option<SmolStr>> {
        match self.peek()? {
            b'"' => Ok(Some(SmolStr::new(self.string()?))),
            b'-' | b'0'..=b'9' => {
                let n = number_value(self.number_text()?);
                Ok(n.map(|n| SmolStr::from(n.to_string())))
            }
            b't' => self
                .literal(b"true")
                .map(|()| Some(SmolStr::new_static("true"))),
            b'f' => self
                .literal(b"false")
                .map(|()| Some(SmolStr::new_static("false"))),
            _ => self.skip().map(|()| None),
        }
    }

    /// A string (at its opening quote), its escapes decoded.
    #[inline(always)]
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        let start = self.at + 1;
        // Most strings (keys, names) have no escape: borrowed as they are.
        let end = plain_run_end(self.text.as_bytes(), start);
        if self.text.as_bytes().get(end) == Some(&b'"') {
            self.at = end + 1;
            return Ok(Cow::Borrowed(&self.text[start..end]));
        }
        self.escaped_string()
    }

    #[cold]
    #[inline(never)]
    fn escaped_string(&mut self) -> Result<Cow<'a, str>> {
        let mut decoded = String::new();
        let (end, tail) = self.string_end(|piece| decoded.push_str(piece))?;
        decoded.push_str(&self.text[tail..end]);
        Ok(Cow::Owned(decoded))
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<()> {
        let bytes = &self.text.as_bytes()[self.at..];
        let n = word.len().min(bytes.len());
        if bytes[..n] != word[..n] {
            return self.syntax("expected a value");
        }
        if n < word.len() {
            return Err(ScanError::Eof);
        }
        self.at += word.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
