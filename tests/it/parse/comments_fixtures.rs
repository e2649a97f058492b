//! Comments survive `fmt` on every fixture: each query and library under
//! `tests/queries/` and `tests/libraries/` gets comments inserted at token
//! boundaries chosen by a seeded generator (some texts also with CRLF line
//! endings), and formatting must keep every comment once and in order, keep
//! the tree, and be idempotent. The generator and the comment helpers are
//! shared with `model_comments.rs`.

use std::fs;
use std::path::{Path, PathBuf};

use segql::syntax::comments::SourceComments;
use segql::syntax::{
    format_library, format_library_with_comments, format_query, format_query_with_comments,
    parse_library, parse_query,
};

/// xorshift64*: a small deterministic generator, so a failure replays.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `percent` / 100.
    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

pub(super) fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Every fixture file, with whether it is a library.
fn fixtures() -> Vec<(PathBuf, bool)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files = Vec::new();
    for (dir, library) in [
        ("queries/valid", false),
        ("queries/aggregates", false),
        ("queries/optimize", false),
        ("libraries", true),
    ] {
        let mut found: Vec<PathBuf> = fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "segql"))
            .collect();
        found.sort();
        files.extend(found.into_iter().map(|path| (path, library)));
    }
    assert!(files.len() > 100, "fixtures not found: {}", files.len());
    files
}

/// Byte offsets where a comment can go without changing the tokens: the
/// start of the text, both sides of every token (never inside a string or
/// an existing comment), and the end unless a comment runs to it. A `-`
/// stuck to a number is part of it (`-7`), so nothing goes between them.
fn boundaries(text: &str) -> Vec<usize> {
    let found = SourceComments::of(text);
    let tokens = &found.tokens;
    let is_minus = |i: usize| text.get(tokens[i].0..tokens[i].1) == Some("-");
    let mut out = vec![0];
    for (i, &(start, end)) in tokens.iter().enumerate() {
        let after_minus = i > 0 && is_minus(i - 1) && tokens[i - 1].1 == start;
        if !after_minus {
            out.push(start);
        }
        let before_number = is_minus(i) && tokens.get(i + 1).is_some_and(|t| t.0 == end);
        if !before_number {
            out.push(end);
        }
    }
    if !found.comments.iter().any(|c| c.end == text.len()) {
        out.push(text.len());
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The comment with marker `k`; some hold `"` and `#`, some have no space.
fn comment(k: usize) -> String {
    match k % 4 {
        0 => format!("# note<{k}>"),
        1 => format!("# note<{k}> \"quoted\" # and a hash"),
        2 => format!("#note<{k}>(x) [y], z"),
        _ => format!("#   note<{k}> where and or \\"),
    }
}

/// `text` with a comment at each boundary the generator picks (at least
/// one); the markers inserted.
pub(super) fn with_comments(text: &str, rng: &mut Rng, percent: u64) -> (String, Vec<usize>) {
    let spots = boundaries(text);
    let mut out = String::new();
    let mut markers = Vec::new();
    let mut from = 0;
    let forced = (rng.next() as usize) % spots.len();
    for (n, &at) in spots.iter().enumerate() {
        if n != forced && !rng.chance(percent) {
            continue;
        }
        out.push_str(&text[from..at]);
        let k = markers.len();
        out.push(' ');
        out.push_str(&comment(k));
        // Some comments have a blank line after them.
        out.push_str(if k % 5 == 3 { "\n\n" } else { "\n" });
        markers.push(k);
        from = at;
    }
    out.push_str(&text[from..]);
    (out, markers)
}

pub(super) fn comment_texts(text: &str) -> Vec<String> {
    SourceComments::of(text)
        .comments
        .into_iter()
        .map(|c| c.text)
        .collect()
}

/// Formats `text`, checks the three properties, and returns the output.
fn check_round_trip(name: &str, text: &str, library: bool, markers: &[usize]) {
    let (formatted, again) = if library {
        let tree = parse_library(text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        let formatted = format_library_with_comments(&tree, text);
        let back = parse_library(&formatted)
            .unwrap_or_else(|e| panic!("{name}: output fails: {e}\n{text}\n---\n{formatted}"));
        assert_eq!(back, tree, "{name}: tree changed\n{text}\n---\n{formatted}");
        (
            formatted.clone(),
            format_library_with_comments(&back, &formatted),
        )
    } else {
        let tree = parse_query(text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        let formatted = format_query_with_comments(&tree, text);
        let back = parse_query(&formatted)
            .unwrap_or_else(|e| panic!("{name}: output fails: {e}\n{text}\n---\n{formatted}"));
        assert_eq!(back, tree, "{name}: tree changed\n{text}\n---\n{formatted}");
        (
            formatted.clone(),
            format_query_with_comments(&back, &formatted),
        )
    };
    for k in markers {
        let marker = format!("note<{k}>");
        assert_eq!(
            formatted.matches(&marker).count(),
            1,
            "{name}: {marker} not kept once\n{text}\n---\n{formatted}"
        );
    }
    assert_eq!(
        comment_texts(&formatted),
        comment_texts(text),
        "{name}: comments lost or moved out of order\n{text}\n---\n{formatted}"
    );
    assert_eq!(
        again, formatted,
        "{name}: not idempotent\n{text}\n---\n{formatted}"
    );
    assert!(!formatted.contains('\r'), "{name}: CR kept\n{formatted}");
    assert!(
        formatted.lines().all(|line| !line.ends_with(' ')),
        "{name}: trailing blanks\n{formatted}"
    );
}

#[test]
fn every_fixture_keeps_comments_inserted_at_random_token_boundaries() {
    for (path, library) in fixtures() {
        let name = path.display().to_string();
        let original = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_round_trip(&name, &original, library, &[]);
        let mut rng = Rng::new(seed_of(&name));
        for variant in 0..16 {
            let percent = [10, 30, 60, 100][variant % 4];
            let (text, markers) = with_comments(&original, &mut rng, percent);
            let text = if variant % 3 == 2 {
                text.replace('\n', "\r\n")
            } else {
                text
            };
            check_round_trip(&format!("{name} #{variant}"), &text, library, &markers);
        }
    }
}

/// `text` without its comments.
pub(super) fn stripped(text: &str) -> String {
    let mut out = String::new();
    let mut from = 0;
    for comment in SourceComments::of(text).comments {
        out.push_str(&text[from..comment.start]);
        from = comment.end;
    }
    out.push_str(&text[from..]);
    out
}

#[test]
fn every_fixture_without_comments_formats_as_format_does() {
    let mut with_header = 0;
    for (path, library) in fixtures() {
        let name = path.display().to_string();
        let original = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let bare = stripped(&original);
        let (plain, woven, header_woven) = if library {
            let tree = parse_library(&bare).unwrap_or_else(|e| panic!("{name}: {e}"));
            let full = parse_library(&original).unwrap_or_else(|e| panic!("{name}: {e}"));
            (
                format_library(&tree),
                format_library_with_comments(&tree, &bare),
                format_library_with_comments(&full, &original),
            )
        } else {
            let tree = parse_query(&bare).unwrap_or_else(|e| panic!("{name}: {e}"));
            let full = parse_query(&original).unwrap_or_else(|e| panic!("{name}: {e}"));
            (
                format_query(&tree),
                format_query_with_comments(&tree, &bare),
                format_query_with_comments(&full, &original),
            )
        };
        assert_eq!(woven, plain, "{name}");
        // Comment lines only before the first token come out as they were,
        // above the same text.
        let found = SourceComments::of(&original);
        let first = found.tokens.first().map_or(0, |t| t.0);
        if !found.comments.is_empty()
            && found
                .comments
                .iter()
                .all(|c| c.anchor == first && !c.blank_line_after)
        {
            with_header += 1;
            let header: Vec<String> = found.comments.into_iter().map(|c| c.text).collect();
            assert_eq!(
                header_woven,
                format!("{}\n{plain}", header.join("\n")),
                "{name}"
            );
        }
    }
    assert!(
        with_header > 50,
        "only {with_header} fixtures with a header"
    );
}

#[test]
fn the_boundaries_keep_strings_and_comments_whole() {
    let text = "a.b=-7 and c = \"x (y)\" # c (d)\nor d";
    assert_eq!(
        boundaries(text),
        vec![0, 1, 2, 3, 4, 6, 7, 10, 11, 12, 13, 14, 15, 22, 31, 33, 34, 35]
    );
    assert_eq!(boundaries("a # end"), vec![0, 1]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// The same properties on generated queries, which reach forms the
    /// fixtures may not (every quantifier, hop, test and literal kind).
    #[test]
    fn generated_queries_keep_comments_inserted_at_random_token_boundaries(
        query in super::props::query(),
        seed in proptest::prelude::any::<u64>(),
        percent in 5u64..=100,
        crlf in proptest::prelude::any::<bool>(),
    ) {
        let plain = segql::syntax::format_query(&query);
        let (text, markers) = with_comments(&plain, &mut Rng::new(seed), percent);
        let text = if crlf { text.replace('\n', "\r\n") } else { text };
        check_round_trip("generated", &text, false, &markers);
    }
}
