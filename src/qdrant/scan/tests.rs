//! The pull reader's tests: reading as serde_json does, lenient leaves, text cut anywhere,
//! bad JSON and where it is, nesting, and the word-at-a-time string scan.
use super::lexical::plain_run_end;
use super::skip::Masks;
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

/// Whole numbers take a shorter path than the rest (`small_count`): both read as serde_json
/// reads, on either side of the path's limits.
#[test]
fn counts_read_as_serde_json_reads_them() {
    let text =
        "[0, 7, 10, 999999999999999, 1000000000000000, 9007199254740993, 3.0, 2e2, 4E-1, -3]";
    let serde: Vec<f64> = serde_json::from_str(text).unwrap();
    let mut numbers = Vec::new();
    Scan::new(text)
        .array(|scan| scan.number().map(|n| numbers.push(n.unwrap())))
        .unwrap();
    assert_eq!(numbers, serde);
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

/// The SSE2 masks are the byte-at-a-time ones, for every byte value at every place in a block
/// (the bytes that differ from a bracket by bit 5 among them).
#[test]
fn block_masks_are_the_bytes_masks() {
    for offset in 0..64 {
        let block: [u8; 64] = std::array::from_fn(|i| (i * 4 + offset) as u8);
        assert_eq!(Masks::of(&block), Masks::portable(&block), "{offset}");
    }
}

/// Values skipped in blocks end where serde_json says they end, and faults in them are found
/// where the byte-by-byte walk finds them, wherever they fall against a 64-byte block.
#[test]
fn skips_match_serde_json_across_blocks() {
    let samples = [
        r#"{"a": [1, {"b": "x]}"}], "c": {"d": "\""}, "e": []}"#,
        r#"[{"k": "ab\"cd", "l": [[], {}], "m": "{[\\"}, "tail"]"#,
        r#"{"unicode": "é漢字", "esc": "\u00e9\n", "n": [-1.5e3, true, null]}"#,
    ];
    for pad in 0..70 {
        // With a long tail, values are skipped in blocks; with a short one, byte by byte.
        for (sample, tail) in samples.iter().flat_map(|s| [(s, 2), (s, 70)]) {
            let text = format!("{}{sample}{}", " ".repeat(pad), " ".repeat(tail));
            let mut scan = Scan::new(&text);
            scan.skip().unwrap();
            assert_eq!(scan.position(), pad + sample.len(), "{pad} {sample}");
            let value: serde_json::Value = serde_json::from_str(&text[..scan.position()]).unwrap();
            assert!(value.is_object() || value.is_array());
        }
        for ((bad, what, at), tail) in [
            (
                "{\"a\": \"x\u{1}\"}",
                "a control character or bad escape in a string",
                8,
            ),
            (
                r#"{"a": [1, 2}]"#,
                "a bracket closes what it did not open",
                11,
            ),
        ]
        .into_iter()
        .flat_map(|bad| [(bad, 0), (bad, 70)])
        {
            let text = format!("{}{bad}{}", " ".repeat(pad), " ".repeat(tail));
            match Scan::new(&text).skip() {
                Err(ScanError::Syntax {
                    what: found,
                    at: place,
                }) => {
                    assert_eq!((found, place), (what, pad + at), "{pad} {bad}")
                }
                other => panic!("{pad} {bad}: {other:?}"),
            }
        }
        let cut = format!("{}{}", " ".repeat(pad), samples[0]);
        for end in pad + 1..cut.len() {
            assert_eq!(
                Scan::new(&cut[..end]).skip(),
                Err(ScanError::Eof),
                "{pad} {end}"
            );
        }
    }
}

/// On text of brackets, quotes, backslashes and control characters in any order, skipping in
/// blocks ends (or fails) exactly where walking every byte does.
#[test]
fn blocks_and_bytes_agree_on_any_text() {
    // Without backslashes or control characters, most blocks are read by their masks.
    let alphabets: [&[u8]; 2] = [b"{}[]\"\\a \x01", b"{}[]\"aaaa    "];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..40_000 {
        let alphabet = alphabets[round % 2];
        let len = (next() % 300) as usize;
        let mut text: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        text.insert(0, if next() % 2 == 0 { b'{' } else { b'[' });
        let text = String::from_utf8(text).unwrap();
        let mut blocks = Scan::new(&text);
        let by_blocks = blocks.skip().map(|()| blocks.position());
        let by_bytes = Scan::new(&text).skip_by_bytes();
        assert_eq!(by_blocks, by_bytes, "{text:?}");
    }
}
