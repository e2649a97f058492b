//! Properties of the checker over generated queries built from the CRM
//! schema's names (and near misses):
//! (a) checking never panics, and every error renders, pointing inside the
//!     query text;
//! (b) names are case-insensitive: shouting every name gives the same plan;
//! (c) `canonicalize` + format gives text that checks to the same plan.

use proptest::prelude::*;

use segql::check::{self, canonicalize};
use segql::diagnostic::{self, Sources};
use segql::schema::crm_schema;
use segql::syntax::{format_query, parse_query};
use segql::Options;

const ENTITIES: &[&str] = &[
    "contact",
    "lead",
    "account",
    "interaction",
    "subscription",
    "contcat",
];

/// Field paths of every entity, plus paths that must fail in instructive ways.
const PATHS: &[&str] = &[
    "role",
    "consent_level",
    "birth_date",
    "created_on",
    "email",
    "is_child",
    "score",
    "estimated_value",
    "status",
    "industry",
    "employees",
    "account_id",
    "id",
    "type",
    "occurred_on",
    "list",
    "contact.email",
    "contact.account.industry",
    "account.city",
    "lead.topic",
    "rol",
    "email.domain",
];

const RELATIONS: &[&str] = &[
    "lead",
    "contact",
    "account",
    "interaction",
    "subscription",
    "lead via lead_parent_contact",
    "account via contact_parent_account",
    "leads",
    "lead via nothing",
];

const VALUES: &[&str] = &[
    "\"Decision Maker\"",
    "\"employee\"",
    "\"Marketing\"",
    "\"Retail\"",
    "\"Open\"",
    "\"Email Opened\"",
    "\"x\"",
    "\"0b5a3c1e-8f0d-4c8e-9a51-2f0e6b7d9c10\"",
    "42",
    "-3.5",
    "true",
    "2024-05-01",
    "2024-05-01T10:30:00Z",
    "now - 30d",
    "today + 1w",
    "today - 12h",
];

const OPS: &[&str] = &[
    "=",
    "!=",
    "<",
    ">=",
    "contains",
    "not starts with",
    "in",
    "between",
];

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(items)
}

fn predicate() -> impl Strategy<Value = String> {
    (pick(PATHS), pick(OPS), pick(VALUES), pick(VALUES), 0..4u8).prop_map(
        |(path, op, a, b, form)| match (form, op) {
            (0, _) => format!("{path} is null"),
            (1, _) => path.to_string(),
            (_, "in") => format!("{path} in [{a}, {b}]"),
            (_, "between") => format!("{path} between {a} and {b}"),
            (_, "contains" | "not starts with") => format!("{path} {op} \"ab\""),
            _ => format!("{path} {op} {a}"),
        },
    )
}

fn expr() -> impl Strategy<Value = String> {
    predicate().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("not {e}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            (pick(RELATIONS), inner.clone()).prop_map(|(r, e)| format!("has {r}({e})")),
            pick(RELATIONS).prop_map(|r| format!("has no {r}")),
        ]
    })
}

fn query() -> impl Strategy<Value = String> {
    (pick(ENTITIES), expr()).prop_map(|(entity, e)| format!("{entity} where {e}"))
}

/// Predicates that check on contact and on lead respectively.
const CONTACT_PREDICATES: &[&str] = &[
    "role = \"employee\"",
    "role != \"Decision Maker\"",
    "consent_level >= \"Marketing\"",
    "consent_level not between \"not set\" and \"transactional\"",
    "birth_date > today - 2w",
    "created_on < now - 12h",
    "created_on >= 2024-05-01",
    "email contains \"ab\"",
    "email is null",
    "is_child",
    "do_not_email != true",
    "account.industry in [\"Retail\", \"other\"]",
    "account.employees between 10 and 20.5",
    "account_id = \"0B5A3C1E-8F0D-4C8E-9A51-2F0E6B7D9C10\"",
];
const LEAD_PREDICATES: &[&str] = &[
    "score > 3",
    "status in [\"open\", \"Qualified\"]",
    "topic starts with \"Con\"",
    "sales_ready",
    "contact.account.city = \"Oslo\"",
    "account.industry != \"Retail\"",
    "estimated_value <= 1000",
];

/// A random expression that checks on `entity` (contact or lead).
fn typed_expr(entity: &'static str, depth: u32) -> BoxedStrategy<String> {
    let (leaves, other) = if entity == "contact" {
        (CONTACT_PREDICATES, "lead")
    } else {
        (LEAD_PREDICATES, "contact")
    };
    let leaf = pick(leaves).prop_map(str::to_string).boxed();
    if depth == 0 {
        return leaf;
    }
    let inner = typed_expr(entity, depth - 1);
    let related = typed_expr(other, depth - 1);
    prop_oneof![
        2 => leaf,
        1 => inner.clone().prop_map(|e| format!("not {e}")),
        1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
        1 => (inner.clone(), inner).prop_map(|(a, b)| format!("({a} or {b})")),
        1 => related.prop_map(move |e| format!("has {other}({e})")),
        1 => Just(format!("has at least 2 {other}")),
    ]
    .boxed()
}

fn typed_query() -> impl Strategy<Value = String> {
    prop_oneof![
        typed_expr("contact", 3).prop_map(|e| format!("contact where {e}")),
        typed_expr("lead", 3).prop_map(|e| format!("lead where {e}")),
    ]
}

/// Upper-case every name (keywords are case-insensitive too), but not the
/// contents of string literals.
fn shout(text: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    for c in text.chars() {
        if c == '"' {
            in_string = !in_string;
        }
        out.push(if in_string { c } else { c.to_ascii_uppercase() });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn checking_never_panics_and_errors_point_into_the_query(text in query()) {
        let schema = crm_schema();
        let Ok(query) = parse_query(&text) else {
            return Ok(());
        };
        if let Err(e) = check::check(&query, &Options::new(&schema)) {
            let span = e.span().expect("checker errors on a query have spans");
            prop_assert!(span.start <= span.end && span.end as usize <= text.len(), "{e:?}");
            let sources = Sources { query: Some(("<query>", &text)), library: None, models: None };
            let rendered = diagnostic::render(&e, &sources, false);
            prop_assert!(rendered.contains("<query>:"), "{rendered}");
            prop_assert!(rendered.contains(&e.to_string()), "{rendered}");
        }
    }

    #[test]
    fn typed_queries_check(text in typed_query()) {
        let schema = crm_schema();
        let query = parse_query(&text).expect("generated text parses");
        check::check(&query, &Options::new(&schema)).expect("typed queries check");
    }

    #[test]
    fn names_are_case_insensitive(text in prop_oneof![query(), typed_query()]) {
        let schema = crm_schema();
        let ctx = Options::new(&schema);
        let (Ok(quiet), Ok(loud)) = (parse_query(&text), parse_query(&shout(&text))) else {
            return Ok(());
        };
        let a = check::check(&quiet, &ctx);
        let b = check::check(&loud, &ctx);
        match (a, b) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a.kind(), b.kind()),
            (a, b) => prop_assert!(false, "{text}: {a:?} vs {b:?}"),
        }
    }

    #[test]
    fn canonical_text_checks_to_the_same_plan(text in typed_query()) {
        let schema = crm_schema();
        let ctx = Options::new(&schema);
        let mut query = parse_query(&shout(&text)).expect("generated text parses");
        let plan = check::check(&query, &ctx).expect("typed queries check");
        canonicalize(&mut query, &schema).expect("a query that checks canonicalizes");
        let formatted = format_query(&query);
        prop_assert!(!formatted.contains("CONTACT"), "{formatted}");
        let again = parse_query(&formatted).expect("formatted text parses");
        prop_assert_eq!(check::check(&again, &ctx).expect("checks again"), plan);
    }
}
