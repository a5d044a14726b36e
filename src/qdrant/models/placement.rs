//! How a segment's components hold and read their data (1.19+): the memory placement of a
//! component (`memory`: `cold`, `cached`, `pinned`) in the segment's config and payload index
//! params, and — in `SegmentInfo`, see `telemetry.rs` — the I/O backend its files are read
//! with (`mmap`, `io_uring`).
//!
//! Read leniently and only as deep as the placement: a value of an unexpected shape costs that
//! placement (read as absent), never the whole level-4 response.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use smallvec::SmallVec;
use smol_str::SmolStr;

/// A segment's `config` (`SegmentConfig`): what its vector indexes are and where they live.
/// The vectors' names are not kept (placements are counted per collection), and their configs
/// are held inline: a level-4 read parses one config per segment, tens of thousands on a large
/// node, and most segments have one or two vectors, so reading them allocates nothing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SegmentConfig {
    /// Each dense vector's storage, index and quantization config.
    pub vector_data: Values<VectorDataConfig>,
    /// Each sparse vector's index config (`SparseIndexConfig` carries `memory` itself).
    pub sparse_vector_data: Values<SparseVectorDataConfig>,
}

/// The values of a JSON object, its keys skipped; up to two held inline. Anything but an
/// object reads as none.
#[derive(Debug, Clone, PartialEq)]
pub struct Values<T>(pub SmallVec<[T; 2]>);

impl<T> Default for Values<T> {
    fn default() -> Self {
        Values(SmallVec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Values<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fold<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fold<T> {
            type Value = Values<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Values<T>, A::Error> {
                let mut values = SmallVec::new();
                while let Some((IgnoredAny, value)) = map.next_entry::<IgnoredAny, T>()? {
                    values.push(value);
                }
                Ok(Values(values))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Values<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Values::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Values<T>, E> {
                Ok(Values::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Values<T>, E> {
                Ok(Values::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Values<T>, E> {
                Ok(Values::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Values<T>, E> {
                Ok(Values::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Values<T>, E> {
                Ok(Values::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Values<T>, E> {
                Ok(Values::default())
            }
        }
        deserializer.deserialize_any(Fold(std::marker::PhantomData))
    }
}

/// `VectorDataConfig`: only the parts that carry a placement.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VectorDataConfig {
    pub index: Option<VectorIndexConfig>,
    /// `QuantizationConfig`: one of `{scalar|product|binary|turbo…: {…, memory}}`.
    pub quantization_config: Option<Quantization>,
}

/// `Indexes`: `{type: plain|hnsw, options}`; an HNSW index's options (`HnswConfig`) carry the
/// graph's placement.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct VectorIndexConfig {
    #[serde(rename = "type", deserialize_with = "crate::qdrant::lenient::text")]
    pub kind: Option<SmolStr>,
    pub options: Option<Placed>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SparseVectorDataConfig {
    pub index: Option<Placed>,
}

/// Any object that may carry a `memory` placement; everything else in it is skipped in place.
/// A value that is not an object, or a `memory` that is not text, reads as no placement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placed {
    pub memory: Option<SmolStr>,
}

/// A quantization config: the placement of whichever quantization it names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quantization(pub Placed);

/// `memory`'s value, as lenient text.
#[derive(Deserialize)]
struct Text(#[serde(deserialize_with = "crate::qdrant::lenient::text")] Option<SmolStr>);

impl<'de> Deserialize<'de> for Placed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Lenient(|map: &mut dyn ErasedMap<'de>| {
            let mut placed = Placed::default();
            while let Some(key) = map.key()? {
                if key == "memory" {
                    placed.memory = map.text()?;
                } else {
                    map.skip()?;
                }
            }
            Ok(placed)
        }))
    }
}

impl<'de> Deserialize<'de> for Quantization {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Lenient(|map: &mut dyn ErasedMap<'de>| {
            let mut found = Placed::default();
            while map.key()?.is_some() {
                let placed = map.placed()?;
                if found.memory.is_none() {
                    found = placed;
                }
            }
            Ok(Quantization(found))
        }))
    }
}

/// The few map operations the lenient readers need, behind one object-safe trait so that one
/// visitor serves both.
trait ErasedMap<'de> {
    fn key(&mut self) -> Result<Option<SmolStr>, Failed>;
    fn text(&mut self) -> Result<Option<SmolStr>, Failed>;
    fn placed(&mut self) -> Result<Placed, Failed>;
    fn skip(&mut self) -> Result<(), Failed>;
}

/// A map operation failed; the map keeps the error to return it as it is, kind and position
/// included (a body cut short must read as cut short: `split.rs` waits for more of it).
struct Failed;

struct Map<A, E> {
    access: A,
    error: Option<E>,
}

impl<'de, A: MapAccess<'de>> Map<A, A::Error> {
    fn keep<T>(&mut self, result: Result<T, A::Error>) -> Result<T, Failed> {
        result.map_err(|e| {
            self.error = Some(e);
            Failed
        })
    }
}

impl<'de, A: MapAccess<'de>> ErasedMap<'de> for Map<A, A::Error> {
    fn key(&mut self) -> Result<Option<SmolStr>, Failed> {
        let key = self.access.next_key::<SmolStr>();
        self.keep(key)
    }
    fn text(&mut self) -> Result<Option<SmolStr>, Failed> {
        let text = self.access.next_value::<Text>().map(|t| t.0);
        self.keep(text)
    }
    fn placed(&mut self) -> Result<Placed, Failed> {
        let placed = self.access.next_value::<Placed>();
        self.keep(placed)
    }
    fn skip(&mut self) -> Result<(), Failed> {
        let skipped = self.access.next_value::<IgnoredAny>().map(|_| ());
        self.keep(skipped)
    }
}

/// Reads a map with `F`; any other JSON value is skipped and yields `T::default()`.
struct Lenient<F>(F);

impl<'de, T, F> Visitor<'de> for Lenient<F>
where
    T: Default,
    F: FnOnce(&mut dyn ErasedMap<'de>) -> Result<T, Failed>,
{
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<T, A::Error> {
        let mut map = Map {
            access,
            error: None,
        };
        (self.0)(&mut map).map_err(|Failed| {
            map.error
                .unwrap_or_else(|| de::Error::custom("a map operation failed"))
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(T::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_are_read_where_the_spec_puts_them_and_odd_shapes_cost_only_themselves() {
        // Read from text, as the agent reads it: entries in the order written.
        let config: SegmentConfig = serde_json::from_str(
            r#"{
                "vector_data": {
                    "": {"index": {"type": "hnsw", "options": {"m": 16, "memory": "cold"}},
                         "quantization_config": {"scalar": {"type": "int8", "memory": "pinned"}}},
                    "odd": {"index": {"type": "hnsw", "options": "cold"},
                            "quantization_config": ["scalar"]},
                    "num": {"index": {"type": "hnsw", "options": {"memory": 3}}}
                },
                "sparse_vector_data": {"kw": {"index": {"index_type": "Mmap", "memory": "cached"}}},
                "payload_storage_type": {"type": "mmap"}
            }"#,
        )
        .unwrap();
        let vectors = config.vector_data.0;
        assert_eq!(vectors.len(), 3);
        let plain = &vectors[0];
        let index = plain.index.as_ref().unwrap();
        assert_eq!(index.kind.as_deref(), Some("hnsw"));
        assert_eq!(
            index.options.as_ref().unwrap().memory.as_deref(),
            Some("cold")
        );
        let quantized = plain.quantization_config.as_ref().unwrap();
        assert_eq!(quantized.0.memory.as_deref(), Some("pinned"));
        let odd = &vectors[1];
        assert_eq!(odd.index.as_ref().unwrap().options, Some(Placed::default()));
        assert_eq!(odd.quantization_config, Some(Quantization::default()));
        let num = vectors[2].index.as_ref().unwrap();
        assert_eq!(num.options.as_ref().unwrap().memory.as_deref(), Some("3"));
        let sparse = config.sparse_vector_data.0;
        let index = sparse[0].index.as_ref().unwrap();
        assert_eq!(index.memory.as_deref(), Some("cached"));
    }

    #[test]
    fn vector_maps_of_other_shapes_read_as_none() {
        for odd in [
            serde_json::json!([1, 2]),
            serde_json::json!("x"),
            serde_json::json!(null),
        ] {
            let config: SegmentConfig =
                serde_json::from_value(serde_json::json!({"vector_data": odd})).unwrap();
            assert!(config.vector_data.0.is_empty(), "{odd}");
        }
    }
}
