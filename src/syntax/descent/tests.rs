//! The descent's nesting bound against the depth pre-scan of SPEC §2.4:
//! wherever the descent returns a tree, its count of nesting is at least
//! the pre-scan's, so skipping the pre-scan never lets a too-deep text
//! through. (Its trees against pest's are tested in
//! `tests/it/parse/descent.rs`.)

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::span::SourceKind;
use crate::syntax::depth::check_depth;

use super::{Descent, NESTING};

/// The deepest nesting the descent counted on `text`, if it parsed it.
fn descent_depth(text: &str) -> Option<usize> {
    let mut descent = Descent::new(text, SourceKind::Query);
    let query = descent.query();
    descent.skip_blanks();
    let parsed = query.is_some() && !descent.gave_up && descent.pos == text.len();
    parsed.then_some(descent.deepest)
}

fn assert_bounds_the_pre_scan(text: &str) -> bool {
    let Some(counted) = descent_depth(text) else {
        return false;
    };
    let scanned = check_depth(text, SourceKind::Query, usize::MAX).expect("no limit");
    assert!(
        counted >= scanned,
        "the descent counted {counted} levels, the pre-scan {scanned}: {text}"
    );
    true
}

/// A random expression that nests every way the pre-scan counts.
fn nesting(rng: &mut ChaCha8Rng, budget: usize) -> String {
    let leaf = |rng: &mut ChaCha8Rng| {
        [
            "a = 1",
            "a.b.c = \"x\"",
            "a not in [1, 2]",
            "a not between 1 and 2",
            "a is not null",
            "a not contains \"(\"",
            "in vip",
            "count(lead.contact.interaction) > 1",
            "max(lead(a = 1).account.employees) is not null",
            "count(lead) not between 1 and 2",
        ][rng.gen_range(0..10)]
        .to_string()
    };
    if budget == 0 {
        return leaf(rng);
    }
    let inner = nesting(rng, budget - 1);
    match rng.gen_range(0..8) {
        0 => format!("not {inner}"),
        1 => format!("not not ({inner})"),
        2 => format!("({inner})"),
        3 => format!("has lead({inner})"),
        4 => format!("not has at least 2 lead via x({inner}) and {}", leaf(rng)),
        5 => format!("count(lead({inner}).contact) >= 2"),
        6 => format!("{} or {inner}", leaf(rng)),
        _ => format!("{inner} and not {}", leaf(rng)),
    }
}

#[test]
fn the_descent_counts_nesting_at_least_as_deep_as_the_pre_scan() {
    let mut rng = ChaCha8Rng::seed_from_u64(256);
    let mut parsed = 0;
    for _ in 0..3000 {
        let budget = rng.gen_range(0..NESTING);
        let text = format!("contact where {}", nesting(&mut rng, budget));
        parsed += usize::from(assert_bounds_the_pre_scan(&text));
    }
    assert!(parsed > 1000, "only {parsed} texts parsed");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/queries");
    for dir in ["valid", "aggregates", "optimize"] {
        for entry in std::fs::read_dir(format!("{fixtures}/{dir}")).expect("fixtures") {
            let text = std::fs::read_to_string(entry.expect("a file").path()).expect("text");
            assert_bounds_the_pre_scan(&text);
        }
    }
}

#[test]
fn past_its_nesting_the_descent_leaves_the_text_to_pest() {
    let nested = |levels: usize| {
        format!(
            "contact where {}a = 1{}",
            "(".repeat(levels),
            ")".repeat(levels)
        )
    };
    assert_eq!(descent_depth(&nested(NESTING)), Some(NESTING));
    assert_eq!(descent_depth(&nested(NESTING + 1)), None);
    // The public parser still parses it, through pest.
    let deep = crate::syntax::parse_query(&nested(NESTING + 1)).expect("parses");
    assert!(deep.filter.is_some());
    let nots = format!("contact where {}a", "not ".repeat(NESTING + 1));
    assert_eq!(descent_depth(&nots), None);
    let path = format!("contact where a{} = 1", ".b".repeat(NESTING + 1));
    assert_eq!(descent_depth(&path), None);
}
