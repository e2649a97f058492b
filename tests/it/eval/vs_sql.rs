//! The in-memory evaluator and the SQL back end must select the same records.
//! Random plans over the built-in schema, with literals sampled from a demo
//! database so that they hit real values, run on both; `contains` must agree
//! with `evaluate` for every record of the root entity.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use segql::db::{Backend, SqliteBackend};
use segql::eval;
use segql::plan::*;
use segql::schema::{crm_schema, FieldType, Schema};
use segql::sql::{self, SqlOptions};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 30, 0).unwrap()
}

struct Gen<'a> {
    rng: ChaCha8Rng,
    schema: &'a Schema,
    conn: &'a Connection,
}

impl Gen<'_> {
    /// A stored value of `table.column` (maybe NULL), chosen at random.
    fn sample(&mut self, table: &str, column: &str) -> Sql {
        let n: i64 = self
            .conn
            .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                r.get(0)
            })
            .unwrap();
        let offset = self.rng.gen_range(0..n.max(1));
        self.conn
            .query_row(
                &format!("SELECT \"{column}\" FROM \"{table}\" LIMIT 1 OFFSET {offset}"),
                [],
                |r| r.get(0),
            )
            .unwrap_or(Sql::Null)
    }

    fn expr(&mut self, entity: &str, depth: u32) -> PlanExpr {
        let pick = if depth == 0 {
            self.rng.gen_range(0..3)
        } else {
            self.rng.gen_range(0..10)
        };
        match pick {
            0 | 1 => self.field(entity),
            2 => PlanExpr::Const(self.rng.gen_bool(0.5)),
            3 | 4 => PlanExpr::Not(Box::new(self.expr(entity, depth - 1))),
            5 => {
                let n = self.rng.gen_range(2..4);
                PlanExpr::And((0..n).map(|_| self.expr(entity, depth - 1)).collect())
            }
            6 => {
                let n = self.rng.gen_range(2..4);
                PlanExpr::Or((0..n).map(|_| self.expr(entity, depth - 1)).collect())
            }
            _ => self.related(entity, depth - 1),
        }
    }

    fn related(&mut self, entity: &str, depth: u32) -> PlanExpr {
        let schema = self.schema;
        let links: Vec<Link> = schema
            .relationships
            .iter()
            .flat_map(|r| {
                let up = Link {
                    relationship: r.name.as_str().into(),
                    direction: Direction::ToParent,
                    from: r.child.as_str().into(),
                    to: r.parent.as_str().into(),
                };
                let down = Link {
                    relationship: r.name.as_str().into(),
                    direction: Direction::ToChildren,
                    from: r.parent.as_str().into(),
                    to: r.child.as_str().into(),
                };
                [up, down]
            })
            .filter(|l| l.from == entity)
            .collect();
        let link = links[self.rng.gen_range(0..links.len())].clone();
        let n = self.rng.gen_range(0..4);
        let quantifier = match self.rng.gen_range(0..5) {
            0 => Quantifier::Any,
            1 => Quantifier::No,
            2 => Quantifier::AtLeast(n),
            3 => Quantifier::AtMost(n),
            _ => Quantifier::Exactly(n),
        };
        let filter = if self.rng.gen_bool(0.2) {
            PlanExpr::Const(true)
        } else {
            self.expr(&link.to.clone(), depth)
        };
        PlanExpr::Related(Related {
            link,
            quantifier,
            filter: Box::new(filter),
        })
    }

    fn field(&mut self, entity: &str) -> PlanExpr {
        let schema = self.schema;
        let e = schema.entity(entity).unwrap();
        let f = &e.fields[self.rng.gen_range(0..e.fields.len())];
        let ty = segql::check::value_type(&f.ty);
        let field = FieldRef {
            entity: e.name.as_str().into(),
            field: f.name.as_str().into(),
            ty,
        };
        let (table, column) = (e.table.clone(), f.column.clone());
        let value = |g: &mut Self| g.value(ty, &f.ty, &table, &column);
        let op = [CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge][self.rng.gen_range(0..5)];
        let ordered = match &f.ty {
            FieldType::Bool => false,
            FieldType::Choice(c) => c.ordered,
            _ => true,
        };
        let test = match self.rng.gen_range(0..6) {
            0 => Test::IsNotNull,
            1 => {
                let n = self.rng.gen_range(1..4);
                Test::InList((0..n).map(|_| value(self)).collect())
            }
            2 if ordered => {
                let (a, b) = (value(self), value(self));
                Test::between(a, b)
            }
            3 if ty == ValueType::Text => {
                let Value::Text(s) = value(self) else {
                    unreachable!()
                };
                let chars: Vec<char> = s.chars().collect();
                let from = self.rng.gen_range(0..=chars.len());
                let to = self.rng.gen_range(from..=chars.len());
                let mut pattern: String = chars[from..to].iter().collect();
                if self.rng.gen_bool(0.5) {
                    pattern = pattern.to_uppercase();
                }
                let op = [TextOp::Contains, TextOp::StartsWith, TextOp::EndsWith]
                    [self.rng.gen_range(0..3)];
                Test::Text { op, pattern }
            }
            _ => Test::Compare {
                op: if ordered { op } else { CmpOp::Eq },
                value: value(self),
            },
        };
        PlanExpr::Field(FieldTest { field, test })
    }

    fn value(&mut self, ty: ValueType, ft: &FieldType, table: &str, column: &str) -> Value {
        let stored = self.sample(table, column);
        let r = self.rng.gen_range(0..4);
        match (ty, stored) {
            (ValueType::Text, Sql::Text(s)) => Value::Text(s),
            (ValueType::Text, _) => Value::Text(["", "a", "Z", "é"][r].into()),
            (ValueType::Uuid, Sql::Text(s)) => Value::Uuid(s.parse().unwrap()),
            (ValueType::Uuid, _) => Value::Uuid(uuid::Uuid::from_u128(self.rng.gen())),
            (ValueType::Integer, Sql::Integer(i)) if r == 0 => Value::Decimal(i as f64 + 0.5),
            (ValueType::Integer, Sql::Integer(i)) => Value::Integer(i + r as i64 - 1),
            (ValueType::Integer, _) => Value::Integer(r as i64),
            (ValueType::Decimal, Sql::Real(f)) if r == 0 => Value::Integer(f as i64),
            (ValueType::Decimal, Sql::Real(f)) => Value::Decimal(f),
            (ValueType::Decimal, _) => Value::Decimal(r as f64 * 1000.5),
            (ValueType::Bool, _) => Value::Bool(r % 2 == 0),
            (ValueType::Choice, _) => {
                let FieldType::Choice(set) = ft else {
                    unreachable!()
                };
                let o = &set.options[self.rng.gen_range(0..set.options.len())];
                Value::Choice {
                    code: o.code,
                    label: o.label.as_str().into(),
                }
            }
            (ValueType::Date, _) if r == 0 => Value::TodayPlusDays(-self.rng.gen_range(0..20_000)),
            (ValueType::Date, Sql::Text(s)) => {
                Value::Date(NaiveDate::parse_from_str(&s, "%Y-%m-%d").unwrap())
            }
            (ValueType::Date, _) => Value::Date(NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()),
            (ValueType::DateTime, _) if r == 0 => Value::NowPlusSeconds {
                seconds: -self.rng.gen_range(0..100_000_000),
                midnight: self.rng.gen_bool(0.3),
            },
            (ValueType::DateTime, Sql::Text(s)) if r == 1 => {
                Value::Date(NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").unwrap())
            }
            (ValueType::DateTime, Sql::Text(s)) => Value::DateTime(
                NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%SZ")
                    .unwrap()
                    .and_utc(),
            ),
            (ValueType::DateTime, _) => Value::DateTime(now()),
        }
    }
}

#[test]
fn random_plans_agree_with_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    let options = segql::demo::DemoOptions::new(150, 7, now());
    segql::demo::generate_sqlite(&path, &options).unwrap();
    let conn = Connection::open(&path).unwrap();
    let schema = crm_schema();
    let store = segql::eval::Store::load(&mut SqliteBackend::new(&conn), &schema, None).unwrap();
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(42),
        schema: &schema,
        conn: &conn,
    };
    let entities = ["contact", "lead", "account", "interaction", "subscription"];
    let mut nonempty = 0;
    for i in 0..400 {
        let entity = entities[i % entities.len()];
        let plan = Plan {
            entity: entity.into(),
            filter: g.expr(entity, 4),
        };
        let options = SqlOptions::new(false, now());
        let query = sql::to_sql(&plan, &schema, &sql::Sqlite, &options).unwrap();
        let want = SqliteBackend::new(&conn)
            .query_ids(&query)
            .unwrap_or_else(|e| panic!("plan {i}: {e}\n{query:?}"));
        let program = eval::compile(&plan, &store, now()).unwrap();
        let got = program.ids().unwrap();
        assert_eq!(
            got,
            want,
            "plan {i}: {}\n{query:?}",
            serde_json::to_string(&plan).unwrap()
        );
        for id in store.ids(entity) {
            assert_eq!(
                program.contains(id).unwrap(),
                want.binary_search(&id).is_ok(),
                "plan {i}, {id}"
            );
        }
        // Only when the selection is a proper subset does the test say much.
        nonempty += usize::from(!got.is_empty() && got.len() < store.len(entity).unwrap_or(0));
    }
    assert!(
        nonempty > 100,
        "only {nonempty} plans selected a proper subset"
    );
    // A plan-restricted load gives the same answers.
    let plan = Plan {
        entity: "contact".into(),
        filter: g.expr("contact", 4),
    };
    let small =
        segql::eval::Store::load(&mut SqliteBackend::new(&conn), &schema, Some(&plan)).unwrap();
    assert_eq!(
        eval::evaluate(&plan, &small, now()).unwrap(),
        eval::evaluate(&plan, &store, now()).unwrap()
    );
}
