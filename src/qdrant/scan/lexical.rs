//! The lexical part of the pull reader: strings and their escapes, numbers, and the scan for
//! the end of a string's plain run, which is where most of a telemetry's bytes are.

use super::{Result, Scan, ScanError};

impl<'a> Scan<'a> {
    /// Walk a string from its opening quote to past its closing one; `decoded` is handed the
    /// text before each escape and what the escape stands for. Returns where the string's
    /// text ends (at the closing quote) and where its text after the last escape starts.
    pub(super) fn string_end(&mut self, mut decoded: impl FnMut(&str)) -> Result<(usize, usize)> {
        let bytes = self.text.as_bytes();
        self.at += 1;
        let mut piece = self.at;
        loop {
            self.at = plain_run_end(bytes, self.at);
            let &byte = bytes.get(self.at).ok_or(ScanError::Eof)?;
            match byte {
                b'"' => {
                    let end = self.at;
                    self.at += 1;
                    return Ok((end, piece));
                }
                b'\\' => {
                    decoded(&self.text[piece..self.at]);
                    let mut buffer = [0; 4];
                    let c = self.escape()?;
                    decoded(c.encode_utf8(&mut buffer));
                    piece = self.at;
                }
                0..=0x1f => return self.syntax("a control character in a string"),
                _ => self.at += 1,
            }
        }
    }

    /// An escape, at its backslash: the character it stands for.
    fn escape(&mut self) -> Result<char> {
        let bytes = self.text.as_bytes();
        let &kind = bytes.get(self.at + 1).ok_or(ScanError::Eof)?;
        self.at += 2;
        Ok(match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                if !(0xD800..0xDC00).contains(&first) {
                    return char::from_u32(first)
                        .map_or_else(|| self.syntax("a lone surrogate"), Ok);
                }
                if bytes.get(self.at..self.at + 2).ok_or(ScanError::Eof)? != b"\\u" {
                    return self.syntax("a lone surrogate");
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..0xE000).contains(&second) {
                    return self.syntax("a lone surrogate");
                }
                let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return char::from_u32(c).map_or_else(|| self.syntax("a bad escape"), Ok);
            }
            _ => return self.syntax("a bad escape"),
        })
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self
            .text
            .as_bytes()
            .get(self.at..self.at + 4)
            .ok_or(ScanError::Eof)?;
        let mut value = 0;
        for &digit in digits {
            let Some(d) = (digit as char).to_digit(16) else {
                return self.syntax("a bad \\u escape");
            };
            value = value * 16 + d;
        }
        self.at += 4;
        Ok(value)
    }

    /// A number as written, its grammar checked; a number running to the end of the text may
    /// go on, so that is [`ScanError::Eof`].
    pub fn number_text(&mut self) -> Result<&'a str> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut at = self.at;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at - from
        };
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        let whole = digits(&mut at);
        let mut ok = whole > 0 && !(whole > 1 && bytes[at - whole] == b'0');
        if ok && bytes.get(at) == Some(&b'.') {
            at += 1;
            ok = digits(&mut at) > 0;
        }
        if ok && matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            ok = digits(&mut at) > 0;
        }
        if at >= bytes.len() {
            return Err(ScanError::Eof);
        }
        if !ok {
            self.at = at;
            return self.syntax(if at == start {
                "expected a value"
            } else {
                "a bad number"
            });
        }
        self.at = at;
        Ok(&self.text[start..at])
    }
}

/// Where the run of plain string bytes (not `"`, `\\` or a control character) starting at
/// `at` ends: sixteen or eight bytes at a time, since most of a telemetry's bytes are in
/// strings.
#[inline(always)]
pub(super) fn plain_run_end(bytes: &[u8], mut at: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    while let Some(chunk) = bytes.get(at..at + 16) {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8,
        };
        // Sixteen bytes at a time where SSE2 is (every x86_64): a byte is special when it is
        // `"`, `\` or at most 0x1f (the unsigned minimum with 0x1f is itself).
        // SAFETY: `chunk` is sixteen readable bytes (an unaligned load reads exactly those),
        // and SSE2 is part of the x86_64 baseline.
        let special = unsafe {
            let word = _mm_loadu_si128(chunk.as_ptr().cast());
            let quote = _mm_cmpeq_epi8(word, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(word, _mm_set1_epi8(b'\\' as i8));
            let control = _mm_cmpeq_epi8(_mm_min_epu8(word, _mm_set1_epi8(0x1f)), word);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
        };
        if special != 0 {
            return at + special.trailing_zeros() as usize;
        }
        at += 16;
    }
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // A byte of `x` that is zero sets its high bit in `zero(x)` (and only such bytes do, below
    // the first one found: which is the one used).
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let quote = zero(x ^ (ONES * u64::from(b'"')));
        let backslash = zero(x ^ (ONES * u64::from(b'\\')));
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        let found = quote | backslash | control;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while bytes
        .get(at)
        .is_some_and(|&b| b >= 0x20 && b != b'"' && b != b'\\')
    {
        at += 1;
    }
    at
}

/// A number's value, from text whose grammar is checked: most are small counts, read without
/// the float parser (exact below 2^53, as the parser would read them).
pub(super) fn number_value(text: &str) -> Option<f64> {
    if text.len() <= 15 && text.bytes().all(|b| b.is_ascii_digit()) {
        let n = text.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
        return Some(n as f64);
    }
    text.parse().ok().filter(|n: &f64| n.is_finite())
}

/// Past the string whose opening quote is at `at`, its escapes passed over as two bytes (a
/// `\\u` escape's hex digits are plain bytes). `Err(None)` when the text ends in it,
/// `Err(Some(at))` at a control character.
#[inline]
pub(super) fn skip_string(bytes: &[u8], at: usize) -> std::result::Result<usize, Option<usize>> {
    let mut at = at + 1;
    loop {
        at = plain_run_end(bytes, at);
        match bytes.get(at) {
            None => return Err(None),
            Some(b'"') => return Ok(at + 1),
            Some(b'\\') if at + 1 < bytes.len() => at += 2,
            Some(b'\\') => return Err(None),
            Some(_) => return Err(Some(at)),
        }
    }
}
