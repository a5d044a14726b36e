//! Passing over an object or array without reading it: most of what a telemetry holds is not
//! asked for (configs, schemas, logs), so this is where much of a read goes.
//!
//! Blocks of 64 bytes are looked at as bit masks (one bit per byte: quotes, brackets, braces,
//! control characters), as simdjson does: a running XOR of the quotes marks the bytes inside
//! strings, and only the brackets outside them are visited, one by one, to follow the nesting.
//! A token-by-token walk spends a mispredicted branch or two on every string. A block holding
//! a backslash, or anything to report, is walked byte by byte instead, so that escapes and
//! errors are handled (and located) in one place.

use super::{Result, Scan, ScanError, MAX_DEPTH};

/// The state of a skip between bytes.
#[derive(Clone, Copy, Default)]
struct Skipping {
    /// The open brackets, one bit each, innermost lowest (1: `{`, 0: `[`): at most MAX_DEPTH
    /// of them, so they fit in 128 bits and need no stack.
    kinds: u128,
    open: usize,
    in_string: bool,
    /// In a string, right after a backslash: the next byte is passed over.
    escaped: bool,
}

/// One bit per byte of a 64-byte block, lowest first.
#[derive(Debug, PartialEq)]
pub(super) struct Masks {
    quote: u64,
    backslash: u64,
    /// `{` or `[`.
    open: u64,
    /// `}` or `]`.
    close: u64,
    /// `{` or `}`.
    brace: u64,
    /// At most 0x1f.
    control: u64,
}

impl Masks {
    /// Inlined: called once per 64 bytes skipped, it is the skip's inner loop, and returned
    /// through memory its six masks cost more than computing them.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    pub(super) fn of(block: &[u8; 64]) -> Masks {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        // Written out, without closures or iterators: a debug build (the tests') runs this
        // as written, and would otherwise be several times slower than the walk it replaces.
        let mut masks = Masks {
            quote: 0,
            backslash: 0,
            open: 0,
            close: 0,
            brace: 0,
            control: 0,
        };
        let bits = |m: __m128i, part: usize| {
            // SAFETY: SSE2 is part of the x86_64 baseline.
            (unsafe { _mm_movemask_epi8(m) } as u16 as u64) << (16 * part)
        };
        let mut part = 0;
        while part < 4 {
            // SAFETY: the sixteen bytes at `16 * part` are in the block (an unaligned load
            // reads exactly those), and SSE2 is part of the x86_64 baseline.
            unsafe {
                let word = _mm_loadu_si128(block.as_ptr().add(16 * part).cast());
                // `[` and `]` are `{` and `}` without bit 5, and no other byte becomes either
                // with it.
                let folded = _mm_or_si128(word, _mm_set1_epi8(0x20));
                let open_brace = _mm_cmpeq_epi8(word, _mm_set1_epi8(b'{' as i8));
                let close_brace = _mm_cmpeq_epi8(word, _mm_set1_epi8(b'}' as i8));
                let low = _mm_min_epu8(word, _mm_set1_epi8(0x1f));
                masks.quote |= bits(_mm_cmpeq_epi8(word, _mm_set1_epi8(b'"' as i8)), part);
                masks.backslash |= bits(_mm_cmpeq_epi8(word, _mm_set1_epi8(b'\\' as i8)), part);
                masks.open |= bits(_mm_cmpeq_epi8(folded, _mm_set1_epi8(b'{' as i8)), part);
                masks.close |= bits(_mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8)), part);
                masks.brace |= bits(_mm_or_si128(open_brace, close_brace), part);
                masks.control |= bits(_mm_cmpeq_epi8(low, word), part);
            }
            part += 1;
        }
        masks
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub(super) fn of(block: &[u8; 64]) -> Masks {
        Masks::portable(block)
    }

    /// The masks, a byte at a time (where there is no SSE2; and to test the SSE2 ones by).
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    pub(super) fn portable(block: &[u8; 64]) -> Masks {
        let mask = |test: fn(u8) -> bool| {
            let bits = block.iter().enumerate().filter(|&(_, &b)| test(b));
            bits.fold(0u64, |mask, (i, _)| mask | 1 << i)
        };
        Masks {
            quote: mask(|b| b == b'"'),
            backslash: mask(|b| b == b'\\'),
            open: mask(|b| b == b'{' || b == b'['),
            close: mask(|b| b == b'}' || b == b']'),
            brace: mask(|b| b == b'{' || b == b'}'),
            control: mask(|b| b <= 0x1f),
        }
    }
}

/// Each bit the XOR of itself and all below it: set from an opening quote up to (not
/// including) its closing one.
fn prefix_xor(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

impl Scan<'_> {
    /// An object or array, at its opening bracket, passed over. Only its strings and the
    /// nesting of its brackets are checked.
    pub(super) fn skip_nested(&mut self) -> Result<()> {
        let bytes = self.text.as_bytes();
        let mut state = Skipping::default();
        let mut at = self.at;
        while let Some(block) = bytes.get(at..at + 64) {
            let Ok(block) = <&[u8; 64]>::try_from(block) else {
                break;
            };
            let end = match self.skip_block(block, &mut state) {
                Some(end) => end,
                None => self.skip_bytes(bytes, at, at + 64, &mut state)?,
            };
            if let Some(end) = end {
                self.at = at + end;
                return Ok(());
            }
            at += 64;
        }
        match self.skip_bytes(bytes, at, bytes.len(), &mut state)? {
            Some(end) => {
                self.at = at + end;
                Ok(())
            }
            None => Err(ScanError::Eof),
        }
    }

    /// [`Self::skip_nested`] without blocks: where the value ends (tests).
    #[cfg(test)]
    pub(super) fn skip_by_bytes(&self) -> Result<usize> {
        let bytes = self.text.as_bytes();
        let end = self.skip_bytes(bytes, self.at, bytes.len(), &mut Skipping::default())?;
        end.map(|n| self.at + n).ok_or(ScanError::Eof)
    }

    /// One block by its masks: `Some(Some(n))` when the value ends `n` bytes into it,
    /// `Some(None)` when it goes on past it, `None` (state untouched) when the block must be
    /// walked byte by byte (a backslash, or something to report).
    fn skip_block(&self, block: &[u8; 64], state: &mut Skipping) -> Option<Option<usize>> {
        let masks = Masks::of(block);
        if state.escaped || masks.backslash != 0 {
            return None;
        }
        let inside = prefix_xor(masks.quote) ^ if state.in_string { !0 } else { 0 };
        let mut brackets = (masks.open | masks.close) & !inside;
        let mut next = *state;
        let mut end = None;
        while brackets != 0 {
            let i = brackets.trailing_zeros();
            brackets &= brackets - 1;
            let brace = masks.brace >> i & 1 == 1;
            if masks.open >> i & 1 == 1 {
                next.open += 1;
                if self.depth + next.open > MAX_DEPTH {
                    return None;
                }
                next.kinds = next.kinds << 1 | u128::from(brace);
            } else {
                if next.open == 0 || (next.kinds & 1 == 1) != brace {
                    return None;
                }
                next.kinds >>= 1;
                next.open -= 1;
                if next.open == 0 {
                    end = Some(i as usize + 1);
                    break;
                }
            }
        }
        let within = match end {
            Some(n) if n < 64 => (1u64 << n) - 1,
            _ => !0,
        };
        if masks.control & inside & within != 0 {
            return None;
        }
        next.in_string = inside >> 63 == 1;
        *state = next;
        Some(end)
    }

    /// `bytes[from..to]` one at a time: `Some(n)` when the value ends `n` bytes after `from`.
    fn skip_bytes(
        &self,
        bytes: &[u8],
        from: usize,
        to: usize,
        state: &mut Skipping,
    ) -> Result<Option<usize>> {
        let fail = |what: &'static str, at: usize| Err(ScanError::Syntax { what, at });
        for at in from..to {
            let Some(&byte) = bytes.get(at) else { break };
            if state.in_string {
                match byte {
                    _ if state.escaped => state.escaped = false,
                    b'\\' => state.escaped = true,
                    b'"' => state.in_string = false,
                    0..=0x1f => return fail("a control character or bad escape in a string", at),
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => state.in_string = true,
                b'{' | b'[' => {
                    state.open += 1;
                    if self.depth + state.open > MAX_DEPTH {
                        return fail("nesting too deep", at);
                    }
                    state.kinds = state.kinds << 1 | u128::from(byte == b'{');
                }
                b'}' | b']' => {
                    if state.open == 0 || (state.kinds & 1 == 1) != (byte == b'}') {
                        return fail("a bracket closes what it did not open", at);
                    }
                    state.kinds >>= 1;
                    state.open -= 1;
                    if state.open == 0 {
                        return Ok(Some(at + 1 - from));
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }
}
