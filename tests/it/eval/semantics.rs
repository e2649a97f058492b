//! The in-memory engine beyond the shared semantic cases (`crate::semantics`,
//! which run every case on the memory engine too): unknown records, the
//! store builder's refusals, and programs shared between threads.

use segql::eval::{self, StoreBuilder};
use segql::plan::*;
use segql::schema::crm_schema;
use uuid::Uuid;

use crate::semantics::{now, store};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

#[test]
fn unknown_records_are_not_contained() {
    let plan = Plan {
        entity: "contact".into(),
        filter: PlanExpr::Const(true),
    };
    assert!(!eval::contains(&plan, &store("small"), id(0xdead), now("small")).unwrap());
    assert_eq!(
        eval::evaluate(&plan, &store("small"), now("small"))
            .unwrap()
            .len(),
        5
    );
}

#[test]
fn builder_rejects_bad_values() {
    let mut b = StoreBuilder::new(&crm_schema());
    let bad_type = b.insert(
        "contact",
        [("id", Value::Uuid(id(1))), ("city", Value::Integer(3))],
    );
    assert!(bad_type.unwrap_err().to_string().contains("contact.city"));
    assert!(b.insert("contact", [("city", text("x"))]).is_err());
    assert!(b.insert("nobody", [("id", Value::Uuid(id(1)))]).is_err());
    b.insert("contact", [("id", Value::Uuid(id(1)))]).unwrap();
    b.insert("contact", [("id", Value::Uuid(id(1)))]).unwrap();
    assert!(b.build().unwrap_err().to_string().contains("two records"));
}

#[test]
fn programs_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>(_: &T) {}
    let store = store("small");
    let plan = Plan {
        entity: "contact".into(),
        filter: PlanExpr::Field(FieldTest {
            field: FieldRef {
                entity: "contact".into(),
                field: "city".into(),
                ty: ValueType::Text,
            },
            test: Test::IsNotNull,
        }),
    };
    let program = eval::compile(&plan, &store, now("small")).unwrap();
    shareable(&program);
    let counted = std::thread::scope(|s| s.spawn(|| program.count()).join().unwrap()).unwrap();
    assert_eq!(counted, 3);
}

/// `has` quantifiers count up to the number that decides them, in a byte
/// where that number fits (`src/eval/compile.rs`): contacts with 300, 255,
/// 254 and 3 matching leads, around those limits, on the whole-table path
/// and the per-record one.
#[test]
fn has_counts_past_a_byte_where_the_quantifier_needs_it() {
    let schema = crm_schema();
    let mut b = StoreBuilder::new(&schema);
    let mut lead = 1000u128;
    for (contact, matching) in [(1u128, 300), (2, 255), (3, 254), (4, 3)] {
        b.insert("contact", [("id", Value::Uuid(id(contact)))])
            .unwrap();
        // Every contact also has a lead the filter leaves out.
        for score in std::iter::repeat_n(1, matching).chain([0]) {
            lead += 1;
            b.insert(
                "lead",
                [
                    ("id", Value::Uuid(id(lead))),
                    ("contact_id", Value::Uuid(id(contact))),
                    ("score", Value::Integer(score)),
                ],
            )
            .unwrap();
        }
    }
    let store = b.build().unwrap();
    let now = now("small");
    for (quantifier, want) in [
        ("at least 256", &[1][..]),
        ("at least 255", &[1, 2]),
        ("exactly 255", &[2]),
        ("exactly 254", &[3]),
        ("at most 254", &[3, 4]),
        ("at most 255", &[2, 3, 4]),
        ("exactly 3", &[4]),
        ("exactly 301", &[]),
    ] {
        let text = format!("contact where has {quantifier} lead(score = 1)");
        let plan = segql::plan(&text, &segql::Options::new(&schema)).unwrap();
        let want: Vec<Uuid> = want.iter().map(|&n| id(n)).collect();
        assert_eq!(eval::evaluate(&plan, &store, now).unwrap(), want, "{text}");
        for contact in 1..=4 {
            assert_eq!(
                eval::contains(&plan, &store, id(contact), now).unwrap(),
                want.contains(&id(contact)),
                "{text}: contact {contact}"
            );
        }
    }
}
