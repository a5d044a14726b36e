//! The pull reader (`scan/`) as a serde `Deserializer`, so that the serde models read a
//! telemetry's collections with it: what they do not name is passed over by counting brackets
//! (serde_json checks and spends on a skipped value about what it spends on a read one), and a
//! collection's `shards` are read by `shard_scan.rs` in place (see [`SHARDS`]).
//!
//! Errors are serde_json's type, as the splitter and the models expect where
//! elements are read (`split.rs`); text that ends early is told apart ([`ScanDeserializer::cut`]).

use std::borrow::Cow;
use std::cell::Cell;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::models::ReplicaSetTelemetry;
use super::scan::{Scan, ScanError};

type Result<T> = std::result::Result<T, serde_json::Error>;

/// The newtype name by which the models ask for a collection's shards read in place: this
/// reader reads them (`shard_scan.rs`), leaves them in [`take_shards`] and tells the visitor
/// `visit_unit`; any other deserializer hands the visitor itself (`visit_newtype_struct`).
pub const SHARDS: &str = "$qdrant_otel_agent::shards";

thread_local! {
    /// The shards read by the last [`SHARDS`] request on this thread, until taken.
    static SHARD_LIST: Cell<Option<Vec<ReplicaSetTelemetry>>> = const { Cell::new(None) };
}

/// The shards this thread's reader just read, for the [`SHARDS`] visitor.
pub fn take_shards() -> Option<Vec<ReplicaSetTelemetry>> {
    SHARD_LIST.with(Cell::take)
}

pub struct ScanDeserializer<'a> {
    scan: Scan<'a>,
    /// The text ended before the value did.
    cut: bool,
}

impl<'a> ScanDeserializer<'a> {
    pub fn new(text: &'a str) -> ScanDeserializer<'a> {
        ScanDeserializer {
            scan: Scan::new(text),
            cut: false,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.scan.position()
    }

    /// Whether the last error was the text ending early (more of it may come).
    pub fn cut(&self) -> bool {
        self.cut
    }

    fn fail(&mut self, error: ScanError) -> serde_json::Error {
        self.cut = error == ScanError::Eof;
        de::Error::custom(error)
    }

    fn peek(&mut self) -> Result<u8> {
        self.scan.peek().map_err(|e| self.fail(e))
    }
}

/// An element of a split array (`split.rs`) read with this reader: the
/// element and the bytes it took, or `Ok(None)` when the text ends before the element does
/// and more may come (`end` false).
pub fn read_element<T: de::DeserializeOwned>(text: &str, end: bool) -> Result<Option<(T, usize)>> {
    let mut deserializer = ScanDeserializer::new(text);
    match T::deserialize(&mut deserializer) {
        Ok(value) => Ok(Some((value, deserializer.position()))),
        Err(_) if deserializer.cut() && !end => Ok(None),
        Err(e) => Err(e),
    }
}

impl<'de> Deserializer<'de> for &mut ScanDeserializer<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            b'{' => {
                let first = self
                    .scan
                    .open(b'{', "expected an object")
                    .map_err(|e| self.fail(e))?;
                visitor.visit_map(Members { de: self, first })
            }
            b'[' => {
                let first = self
                    .scan
                    .open(b'[', "expected an array")
                    .map_err(|e| self.fail(e))?;
                visitor.visit_seq(Members { de: self, first })
            }
            b'"' => match self.scan.string().map_err(|e| self.fail(e))? {
                Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
                Cow::Owned(text) => visitor.visit_string(text),
            },
            b't' | b'f' | b'n' => match self.scan.text().map_err(|e| self.fail(e))? {
                Some(word) => visitor.visit_bool(word == "true"),
                None => visitor.visit_unit(),
            },
            _ => {
                let number = self.scan.number_text().map_err(|e| self.fail(e))?;
                visit_number(number, visitor)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.peek()? == b'n' {
            self.scan.skip().map_err(|e| self.fail(e))?;
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scan.skip().map_err(|e| self.fail(e))?;
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name != SHARDS {
            return visitor.visit_newtype_struct(self);
        }
        let shards = super::models::read_shards(&mut self.scan).map_err(|e| self.fail(e))?;
        SHARD_LIST.with(|slot| slot.set(shards));
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier
    }
}

/// A number as serde_json hands it over: an integer as `u64` or `i64` when it fits (peer ids
/// exceed 2^53), anything else as `f64`.
fn visit_number<'de, V: Visitor<'de>>(number: &str, visitor: V) -> Result<V::Value> {
    let integral = !number.contains(['.', 'e', 'E']);
    if integral {
        if let Ok(n) = number.parse::<u64>() {
            return visitor.visit_u64(n);
        }
        if let Ok(n) = number.parse::<i64>() {
            return visitor.visit_i64(n);
        }
    }
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() => visitor.visit_f64(n),
        _ => Err(de::Error::custom(format!("number out of range: {number}"))),
    }
}

/// The members of an object or array, past its opening bracket.
struct Members<'r, 'de> {
    de: &'r mut ScanDeserializer<'de>,
    first: bool,
}

impl<'de> MapAccess<'de> for Members<'_, 'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let key = self.de.scan.next_key(&mut self.first);
        match key.map_err(|e| self.de.fail(e))? {
            None => Ok(None),
            Some(Cow::Borrowed(key)) => seed
                .deserialize(de::value::BorrowedStrDeserializer::new(key))
                .map(Some),
            Some(Cow::Owned(key)) => seed
                .deserialize(de::value::StringDeserializer::new(key))
                .map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.de)
    }
}

impl<'de> SeqAccess<'de> for Members<'_, 'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let more = self.de.scan.next_element(&mut self.first);
        if !more.map_err(|e| self.de.fail(e))? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}
