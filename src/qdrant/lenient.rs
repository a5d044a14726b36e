//! Leaf fields that tolerate what a newer, older or misbehaving Qdrant may send: a value of
//! another type, or `null`, costs that one field (read as absent) instead of the whole
//! response. Numbers written as strings are read as numbers. Nothing is buffered: the visitors
//! skip what they cannot use in place.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use smol_str::SmolStr;

/// A number; a numeric string is read as its number; anything else is absent.
pub fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    deserializer
        .deserialize_any(Leaf(Kind::Number))
        .map(|v| match v {
            Value::Number(n) => Some(n),
            Value::Text(t) => t.trim().parse().ok().filter(|n: &f64| n.is_finite()),
            Value::Flag(_) | Value::None => None,
        })
}

/// A number held where serde needs a type rather than a function (a map's values, such as
/// hardware counters): `None` for what [`number`] reads as absent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Number(pub Option<f64>);

impl<'de> de::Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        number(deserializer).map(Number)
    }
}

/// A string (a `String`, or a `SmolStr` for short ones kept many times over); a number or
/// boolean is read as its text; anything else is absent.
pub fn text<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<SmolStr>,
{
    deserializer
        .deserialize_any(Leaf(Kind::Text))
        .map(|v| match v {
            Value::Text(t) => Some(T::from(t)),
            Value::Number(n) => Some(T::from(SmolStr::from(n.to_string()))),
            Value::Flag(b) => Some(T::from(SmolStr::from(b.to_string()))),
            Value::None => None,
        })
}

/// A boolean; `"true"`/`"false"` strings are read as booleans; anything else is absent.
pub fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    deserializer
        .deserialize_any(Leaf(Kind::Flag))
        .map(|v| match v {
            Value::Flag(b) => Some(b),
            Value::Text(t) => t.trim().parse().ok(),
            Value::Number(_) | Value::None => None,
        })
}

#[derive(Clone, Copy)]
enum Kind {
    Number,
    Text,
    Flag,
}

enum Value {
    Number(f64),
    /// Short strings (most) are held inline, without allocating.
    Text(SmolStr),
    Flag(bool),
    None,
}

struct Leaf(Kind);

impl<'de> Visitor<'de> for Leaf {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.0 {
            Kind::Number => f.write_str("a number"),
            Kind::Text => f.write_str("a string"),
            Kind::Flag => f.write_str("a boolean"),
        }
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Flag(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Text(SmolStr::new(v)))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Text(SmolStr::from(v)))
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::None)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Sample {
        #[serde(deserialize_with = "super::number")]
        n: Option<f64>,
        #[serde(deserialize_with = "super::text")]
        t: Option<String>,
        #[serde(deserialize_with = "super::flag")]
        f: Option<bool>,
        rest: Option<u8>,
    }

    fn parse(json: &str) -> Sample {
        serde_json::from_str(json).expect("parses")
    }

    #[test]
    fn a_wrong_type_costs_only_its_field() {
        let s = parse(r#"{"n": {"x": [1, 2]}, "t": [1], "f": null, "rest": 7}"#);
        assert_eq!(
            s,
            Sample {
                rest: Some(7),
                ..Sample::default()
            }
        );
    }

    #[test]
    fn strings_of_numbers_and_booleans_are_read() {
        let s = parse(r#"{"n": " 12.5", "t": 3, "f": "true"}"#);
        assert_eq!(
            (s.n, s.t.as_deref(), s.f),
            (Some(12.5), Some("3"), Some(true))
        );
        assert_eq!(parse(r#"{"n": "NaN"}"#).n, None);
    }

    #[test]
    fn a_map_of_numbers_keeps_the_good_values() {
        let counters: std::collections::BTreeMap<String, super::Number> =
            serde_json::from_str(r#"{"cpu": 4, "io": null, "odd": "7", "bad": [1]}"#)
                .expect("parses");
        let read: Vec<_> = counters.iter().map(|(k, v)| (k.as_str(), v.0)).collect();
        assert_eq!(
            read,
            [
                ("bad", None),
                ("cpu", Some(4.0)),
                ("io", None),
                ("odd", Some(7.0))
            ]
        );
    }
}
