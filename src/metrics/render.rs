//! Human and machine renderings of points: the `once` command's table and JSON, and the stable
//! text form the golden tests compare (sorted, timestamps and clock-dependent values masked).

use std::fmt::Write as _;

use serde::Serialize;

use super::record::Point;
use super::registry::{Instrument, ValueType};

fn value_text(point: &Point) -> String {
    match point.spec().value_type {
        ValueType::Int => format!("{}", point.value.round() as i64),
        ValueType::Double => format!("{}", point.value),
    }
}

fn attributes_text(point: &Point) -> String {
    let mut text = String::new();
    for (i, (key, value)) in point.attributes.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let _ = write!(text, "{key}={value:?}");
    }
    text
}

fn sorted(points: &[Point]) -> Vec<&Point> {
    let mut sorted: Vec<&Point> = points.iter().collect();
    sorted.sort_by(|a, b| {
        (a.spec().name, &a.attributes)
            .partial_cmp(&(b.spec().name, &b.attributes))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    sorted
}

/// One line per point, `name{k="v",…} value`, sorted; volatile values shown as `*`.
pub fn golden(points: &[Point]) -> String {
    let mut text = String::new();
    for point in sorted(points) {
        let value = if point.spec().volatile {
            "*".to_string()
        } else {
            value_text(point)
        };
        let _ = writeln!(
            text,
            "{}{{{}}} {}",
            point.spec().name,
            attributes_text(point),
            value
        );
    }
    text
}

/// An aligned table for a terminal.
pub fn table(points: &[Point]) -> String {
    let rows: Vec<(String, String, String, String)> = sorted(points)
        .into_iter()
        .map(|p| {
            let unit = p.spec().unit.to_string();
            (
                p.spec().name.to_string(),
                attributes_text(p),
                value_text(p),
                unit,
            )
        })
        .collect();
    let width = |f: fn(&(String, String, String, String)) -> usize, title: &str| {
        rows.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let (w_name, w_attrs, w_value) = (
        width(|r| r.0.chars().count(), "METRIC"),
        width(|r| r.1.chars().count(), "ATTRIBUTES"),
        width(|r| r.2.chars().count(), "VALUE"),
    );
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<w_name$}  {:<w_attrs$}  {:>w_value$}  UNIT",
        "METRIC", "ATTRIBUTES", "VALUE"
    );
    for (name, attrs, value, unit) in rows {
        let _ = writeln!(
            text,
            "{name:<w_name$}  {attrs:<w_attrs$}  {value:>w_value$}  {unit}"
        );
    }
    text
}

#[derive(Serialize)]
struct JsonPoint<'a> {
    name: &'static str,
    prometheus_name: String,
    kind: &'static str,
    unit: &'static str,
    attributes: std::collections::BTreeMap<&'static str, &'a str>,
    value: f64,
}

/// The points as JSON values (for `once --format json`).
pub fn json(points: &[Point]) -> serde_json::Value {
    let points: Vec<JsonPoint> = sorted(points)
        .into_iter()
        .map(|p| JsonPoint {
            name: p.spec().name,
            prometheus_name: p.spec().prometheus_name(),
            kind: match p.spec().instrument {
                Instrument::Gauge => "gauge",
                Instrument::Counter => "counter",
                Instrument::UpDownCounter => "updowncounter",
            },
            unit: p.spec().unit,
            attributes: p.attributes.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            value: p.value,
        })
        .collect();
    serde_json::to_value(points).unwrap_or(serde_json::Value::Null)
}
