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
