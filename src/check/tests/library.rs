//! Segment libraries: inlining, entity checks, cycles, duplicates, order.

use super::*;
use crate::check::check_library;

#[test]
fn in_segment_inlines_the_segment_plan() {
    let plan = with_library(
        "segment dm = contact where role = \"Decision Maker\"",
        "contact where in DM and is_child",
    )
    .expect("checks");
    assert_eq!(
        plan,
        super::plan("contact where role = \"Decision Maker\" and is_child").expect("checks")
    );
}

#[test]
fn definitions_may_come_in_any_order() {
    let library = "
        segment vip = contact where in dm and has lead
        segment dm = contact where role = \"Decision Maker\"
    ";
    with_library(library, "contact where in vip").expect("checks");
    let schema = crm_schema();
    check_library(&syntax::parse_library(library).expect("parses"), &schema).expect("valid");
}

#[test]
fn a_segment_without_where_is_everything() {
    let plan = with_library("segment all = contact", "contact where in all").expect("checks");
    assert_eq!(plan.filter, PlanExpr::Const(true));
}

#[test]
fn cycles_are_named() {
    let err = with_library(
        "segment a = contact where in b\nsegment b = contact where in a",
        "contact where in a",
    )
    .expect_err("cycle");
    let Error::SegmentCycle { cycle, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(cycle, &["a", "b", "a"]);
    assert!(err.to_string().contains("a -> b -> a"), "{err}");
    let err = with_library("segment s = contact where in S", "contact where in s")
        .expect_err("self cycle");
    assert!(err.to_string().contains("s -> s"), "{err}");
}

#[test]
fn check_library_finds_cycles_and_errors_in_unused_segments() {
    let schema = crm_schema();
    let lib = |text: &str| syntax::parse_library(text).expect("parses");
    let err = check_library(
        &lib("segment x = contact where in y\nsegment y = contact where in z\nsegment z = contact where in x"),
        &schema,
    )
    .expect_err("cycle");
    assert!(err.to_string().contains("x -> y -> z -> x"), "{err}");
    assert!(matches!(
        check_library(&lib("segment x = contact where in nothing"), &schema),
        Err(Error::UnknownSegment { .. })
    ));
    assert!(matches!(
        check_library(
            &lib("segment x = contact where rol = \"Employee\""),
            &schema
        ),
        Err(Error::UnknownField { .. })
    ));
}

#[test]
fn root_entities_must_match() {
    let err = with_library("segment q = lead where score > 1", "contact where in q")
        .expect_err("mismatch");
    assert!(matches!(
        &err,
        Error::SegmentEntityMismatch { expected, found, .. } if expected == "contact" && found == "lead"
    ));
    // Inside `has lead(...)` the current entity is lead.
    with_library(
        "segment q = lead where score > 1",
        "contact where has lead(in q)",
    )
    .expect("checks");
    let schema = crm_schema();
    let err = check_library(
        &syntax::parse_library("segment q = lead\nsegment c = contact where in q").expect("parses"),
        &schema,
    )
    .expect_err("mismatch inside the library");
    assert!(matches!(err, Error::SegmentEntityMismatch { .. }));
}

#[test]
fn unknown_and_duplicate_segments() {
    assert!(matches!(
        with_library("segment vip = contact", "contact where in vpi"),
        Err(Error::UnknownSegment { suggestion: Some(s), .. }) if s == "vip"
    ));
    assert!(matches!(
        plan("contact where in vip"),
        Err(Error::UnknownSegment {
            suggestion: None,
            ..
        })
    ));
    // A name defined twice fails its users, and only them.
    let duplicated = "segment vip = contact\nsegment VIP = contact\nsegment other = contact";
    let errors = with_library_all(duplicated, "contact where in vip").expect_err("ambiguous");
    assert!(matches!(&errors[0], Error::BrokenSegment { name, errors: 1, .. } if name == "vip"));
    assert!(matches!(&errors[1], Error::DuplicateSegment { name, .. } if name == "VIP"));
    assert_eq!(errors.len(), 2);
    assert!(with_library(duplicated, "contact where in other").is_ok());
    assert!(with_library(duplicated, "contact").is_ok());
}

#[test]
fn a_broken_segment_fails_only_the_queries_that_use_it() {
    let library = "segment bad = contact where rol = \"Employee\" and city = 3\n\
                   segment uses_bad = contact where in bad\n\
                   segment good = contact where role = \"Employee\"";
    assert!(with_library(library, "contact where in good").is_ok());
    // Directly: the use names the segment, then its two errors follow.
    let errors = with_library_all(library, "contact where in bad").expect_err("broken");
    let kinds: Vec<&str> = errors.iter().map(Error::kind).collect();
    assert_eq!(kinds, ["broken segment", "unknown field", "type error"]);
    assert!(matches!(&errors[0], Error::BrokenSegment { name, errors: 2, .. } if name == "bad"));
    // Through another segment: each use names the segment it uses.
    let errors = with_library_all(library, "contact where in uses_bad or in good")
        .expect_err("broken through a use");
    assert!(
        matches!(&errors[0], Error::BrokenSegment { name, errors: 1, .. } if name == "uses_bad"),
        "{errors:?}"
    );
    assert!(errors
        .iter()
        .any(|e| matches!(e, Error::BrokenSegment { name, .. } if name == "bad")));
}

#[test]
fn errors_in_library_segments_point_into_the_library() {
    let errors = with_library_all(
        "segment x = contact where rol = \"Employee\"",
        "contact where in x",
    )
    .expect_err("bad segment");
    let [use_of_x, inside_x] = &errors[..] else {
        panic!("two errors expected: {errors:?}")
    };
    assert!(matches!(
        use_of_x.span().expect("a span").source,
        crate::span::SourceKind::Query
    ));
    let span = inside_x.span().expect("a span");
    assert!(
        matches!(span.source, crate::span::SourceKind::Library),
        "{span:?}"
    );
}

#[test]
fn doubling_segments_hit_the_node_limit_not_the_memory() {
    let mut library = String::from("segment s0 = contact where city = \"A\"\n");
    for i in 1..=40 {
        library.push_str(&format!(
            "segment s{i} = contact where in s{} or in s{}\n",
            i - 1,
            i - 1
        ));
    }
    let err = with_library(&library, "contact where in s40").expect_err("too large");
    assert!(matches!(err, Error::TooManyNodes { .. }), "{err:?}");
}

#[test]
fn long_segment_chains_hit_the_depth_limit() {
    let mut library = String::from("segment s0 = contact where city = \"A\"\n");
    for i in 1..=1100 {
        library.push_str(&format!(
            "segment s{i} = contact where not in s{} or is_child\n",
            i - 1
        ));
    }
    let err = with_library(&library, "contact where in s1100").expect_err("too deep");
    assert!(matches!(err, Error::TooDeep { .. }), "{err:?}");
    with_library(&library, "contact where in s500").expect("500 levels are fine");
}

#[test]
fn many_definitions_with_not_are_not_one_deep_chain() {
    let mut library = String::new();
    for i in 0..300 {
        library.push_str(&format!("segment s{i} = contact where not is_child\n"));
    }
    with_library(&library, "contact where in s299").expect("each `not` ends with its segment");
}
