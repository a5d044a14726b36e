//! The pull reader's tests: reading as serde_json does, lenient leaves, text cut anywhere,
//! bad JSON and where it is, nesting, and the word-at-a-time string scan.
use super::lexical::plain_run_end;
use super::*;

/// Every key and leaf of `text`, read with the methods the segment reader uses.
fn read_all(text: &str) -> Result<Vec<String>> {
    fn value(scan: &mut Scan, into: &mut Vec<String>) -> Result<()> {
        match scan.peek()? {
            b'{' => scan.object(|scan, key| {
                into.push(format!("key {key}"));
                value(scan, into)
            }),
            b'[' => scan.array(|scan| value(scan, into)),
            b'"' => scan.string().map(|s| into.push(format!("text {s}"))),
            b'-' | b'0'..=b'9' => scan.number().map(|n| into.push(format!("number {n:?}"))),
            _ => scan.text().map(|t| into.push(format!("word {t:?}"))),
        }
    }
    let mut read = Vec::new();
    let mut scan = Scan::new(text);
    value(&mut scan, &mut read)?;
    Ok(read)
}

#[test]
fn reads_keys_strings_numbers_and_literals_as_serde_json_does() {
    let text = r#" {"a\u00e9\"\\\/\n": [1, -0.5, 2.5e3, 12345678901234567890, "x\ud83d\ude00y", true, null],
                   "long string with no escape at all": {}, "e": []} "#;
    let serde: serde_json::Value = serde_json::from_str(text).unwrap();
    let read = read_all(text).unwrap();
    assert_eq!(
        read[0],
        format!("key {}", serde.as_object().unwrap().keys().next().unwrap())
    );
    assert_eq!(
        read[1..7],
        [
            "number Some(1.0)",
            "number Some(-0.5)",
            "number Some(2500.0)",
            "number Some(1.2345678901234567e19)",
            "text x😀y",
            "word Some(\"true\")",
        ]
    );
    assert_eq!(read[8], "key long string with no escape at all");
}

#[test]
fn lenient_leaves_read_other_types_as_absent() {
    let mut scan = Scan::new(r#"[" 12.5", "NaN", {"x": [1]}, 3, false, [1,2]]"#);
    let mut numbers = Vec::new();
    scan.array(|scan| scan.number().map(|n| numbers.push(n)))
        .unwrap();
    assert_eq!(numbers, [Some(12.5), None, None, Some(3.0), None, None]);
    let mut scan = Scan::new(r#"["a", 3, 1.5, true, null, {"a": "b"}]"#);
    let mut texts = Vec::new();
    scan.array(|scan| scan.text().map(|t| texts.push(t)))
        .unwrap();
    let texts: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
    assert_eq!(
        texts,
        [Some("a"), Some("3"), Some("1.5"), Some("true"), None, None]
    );
}

/// A value cut anywhere is `Eof` (more may come), never a syntax error nor a value.
#[test]
fn any_cut_is_eof() {
    let text = r#"{"k": [1.5e3, "a\"b\u00e9", {"x": null, "y": true}], "z": -12}"#;
    for cut in 0..text.len() {
        let Some(prefix) = text.get(..cut) else {
            continue;
        };
        assert_eq!(read_all(prefix), Err(ScanError::Eof), "read {prefix:?}");
        assert_eq!(
            Scan::new(prefix).skip(),
            Err(ScanError::Eof),
            "skip {prefix:?}"
        );
    }
    assert!(read_all(text).is_ok());
    let mut whole = Scan::new(text);
    whole.skip().unwrap();
    assert_eq!(whole.position(), text.len());
}

#[test]
fn bad_json_is_a_syntax_error_where_it_is() {
    for (bad, at) in [
        (r#"{"a" 1}"#, 5),
        (r#"{"a": 1 "b": 2}"#, 8),
        (r#"[1, 01]"#, 6),
        (r#"["a\qb"]"#, 5),
        ("[\"a\u{1}b\"]", 3),
        (r#"[tru]"#, 1),
        (r#"{1: 2}"#, 1),
    ] {
        match read_all(bad) {
            Err(ScanError::Syntax { at: found, .. }) => assert_eq!(found, at, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    // Skipping checks strings and brackets (and a scalar skipped alone).
    for bad in [r#"{"a": [1}]"#, "[\"a\u{1}\"]", "x", "]"] {
        assert!(
            matches!(Scan::new(bad).skip(), Err(ScanError::Syntax { .. })),
            "{bad}"
        );
    }
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(matches!(
        read_all(&deep),
        Err(ScanError::Syntax {
            what: "nesting too deep",
            ..
        })
    ));
    assert!(matches!(
        Scan::new(&deep).skip(),
        Err(ScanError::Syntax {
            what: "nesting too deep",
            ..
        })
    ));
}

/// The sixteen- and eight-byte scans find the first quote, backslash or control character
/// wherever it is in a word, and never one past it.
#[test]
fn plain_runs_end_at_the_first_special_byte() {
    for len in 0..40 {
        for special in [b'"', b'\\', 0x1f, 0x00] {
            let mut bytes = vec![b'a'; len];
            bytes.push(special);
            bytes.extend_from_slice(b"\"\\\x01 tail");
            assert_eq!(plain_run_end(&bytes, 0), len, "{len} {special}");
        }
        let plain = "é".repeat(len);
        assert_eq!(plain_run_end(plain.as_bytes(), 0), plain.len());
    }
}
