//! What a plan needs loaded: the entities with their fields, the
//! relationships it follows and the entities whose keys it needs. Two loads
//! with the same needs build the same store; a store loaded for more needs
//! answers the plan the same way when it [`Needs::covers`] them.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::plan::{Link, Plan, PlanExpr};
use crate::schema::Schema;

/// Entities (lowercase name → lowercase field names) and relationships to
/// load, and the entities whose keys are needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Needs {
    pub(crate) fields: BTreeMap<String, BTreeSet<String>>,
    pub(crate) relationships: BTreeSet<String>,
    pub(crate) keyed: BTreeSet<String>,
    /// The fields (entity, field) among `fields` read only to resolve a
    /// relationship's foreign key, which no test reads: once the links are
    /// built the store could do without them (a snapshot leaves them out).
    pub(crate) links_only: BTreeSet<(String, String)>,
}

impl Needs {
    /// What `plan` needs; without a plan, everything.
    pub(crate) fn of(plan: Option<&Plan>, schema: &Schema) -> Result<Needs> {
        match plan {
            Some(plan) => Needs::of_plan(plan, schema),
            None => Ok(Needs::everything(schema)),
        }
    }

    /// Whether a store loaded for `self` answers every plan needing `other`
    /// exactly as a store loaded for `other` would: it holds every entity,
    /// field and relationship `other` needs, and each entity's rows come in
    /// the same order. A keyed entity's rows are in key order whatever else
    /// was loaded, so more fields do no harm; an entity without keys keeps
    /// the order SQLite read it in, which depends on the columns read (a
    /// covering index may serve them), so its fields must be the same and
    /// it must be unkeyed in both.
    pub(crate) fn covers(&self, other: &Needs) -> bool {
        other.fields.iter().all(|(entity, fields)| {
            let Some(held) = self.fields.get(entity) else {
                return false;
            };
            let kept = self.tested(entity, held);
            let wanted = other.tested(entity, fields);
            let ordered = if other.keyed.contains(entity) {
                self.keyed.contains(entity)
            } else {
                !self.keyed.contains(entity) && held == fields
            };
            ordered && wanted.iter().all(|f| kept.contains(f))
        }) && self.relationships.is_superset(&other.relationships)
    }

    /// Those of `entity`'s `fields` that tests may read (not
    /// [`Needs::links_only`]).
    fn tested<'f>(&self, entity: &str, fields: &'f BTreeSet<String>) -> Vec<&'f String> {
        fields
            .iter()
            .filter(|f| {
                !self
                    .links_only
                    .contains(&(entity.to_string(), f.to_string()))
            })
            .collect()
    }

    fn everything(schema: &Schema) -> Needs {
        Needs {
            fields: schema
                .entities
                .iter()
                .map(|e| {
                    let names = e
                        .fields
                        .iter()
                        .map(|f| f.name.to_ascii_lowercase())
                        .collect();
                    (e.name.to_ascii_lowercase(), names)
                })
                .collect(),
            relationships: schema
                .relationships
                .iter()
                .map(|r| r.name.to_ascii_lowercase())
                .collect(),
            keyed: schema
                .entities
                .iter()
                .map(|e| e.name.to_ascii_lowercase())
                .collect(),
            links_only: BTreeSet::new(),
        }
    }

    /// Keys are needed for the root (its ids are the answer), for the parent
    /// of every relationship followed (foreign keys are resolved to its
    /// rows) and where a test names the key field.
    fn of_plan(plan: &Plan, schema: &Schema) -> Result<Needs> {
        let mut needs = Needs {
            fields: BTreeMap::new(),
            relationships: BTreeSet::new(),
            keyed: BTreeSet::new(),
            links_only: BTreeSet::new(),
        };
        let mut tested = BTreeSet::new();
        needs.entity(&plan.entity);
        needs.keyed.insert(plan.entity.to_ascii_lowercase());
        // An explicit stack rather than recursion: plans may be deep.
        let mut stack = vec![&plan.filter];
        while let Some(expr) = stack.pop() {
            match expr {
                PlanExpr::Const(_) => {}
                PlanExpr::Not(e) => stack.push(e),
                PlanExpr::Segment(segment) => stack.push(&segment.filter),
                PlanExpr::And(es) | PlanExpr::Or(es) => stack.extend(es),
                PlanExpr::Field(t) => {
                    let is_key = schema
                        .entity(&t.field.entity)
                        .is_some_and(|e| e.key.eq_ignore_ascii_case(&t.field.field));
                    if is_key {
                        needs.keyed.insert(t.field.entity.to_ascii_lowercase());
                    }
                    let (entity, field) = (
                        t.field.entity.to_ascii_lowercase(),
                        t.field.field.to_ascii_lowercase(),
                    );
                    needs.entity(&entity).insert(field.clone());
                    tested.insert((entity, field));
                }
                PlanExpr::Related(r) => {
                    needs.link(schema, &r.link)?;
                    stack.push(&r.filter);
                }
                PlanExpr::Aggregate(test) => {
                    for hop in &test.aggregate.chain {
                        needs.link(schema, &hop.link)?;
                        stack.push(&hop.filter);
                    }
                    if let Some(field) = &test.aggregate.field {
                        let (entity, field) = (
                            field.entity.to_ascii_lowercase(),
                            field.field.to_ascii_lowercase(),
                        );
                        needs.entity(&entity).insert(field.clone());
                        tested.insert((entity, field));
                    }
                }
            }
        }
        for rel in &schema.relationships {
            let key = (
                rel.child.to_ascii_lowercase(),
                rel.child_field.to_ascii_lowercase(),
            );
            if needs.relationships.contains(&rel.name.to_ascii_lowercase())
                && !tested.contains(&key)
            {
                needs.links_only.insert(key);
            }
        }
        Ok(needs)
    }

    /// What following `link` needs: the relationship's foreign key, resolved
    /// to the parent's rows.
    fn link(&mut self, schema: &Schema, link: &Link) -> Result<()> {
        let rel = schema
            .relationship(&link.relationship)
            .ok_or_else(|| Error::Schema {
                message: format!("the schema has no relationship '{}'", link.relationship),
            })?;
        self.relationships.insert(rel.name.to_ascii_lowercase());
        self.entity(&rel.parent);
        self.keyed.insert(rel.parent.to_ascii_lowercase());
        self.entity(&rel.child)
            .insert(rel.child_field.to_ascii_lowercase());
        Ok(())
    }

    fn entity(&mut self, name: &str) -> &mut BTreeSet<String> {
        self.fields.entry(name.to_ascii_lowercase()).or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::crm_schema;

    fn needs(text: &str) -> Needs {
        let schema = crm_schema();
        let plan = crate::plan(text, &crate::Options::new(&schema)).unwrap();
        Needs::of(Some(&plan), &schema).unwrap()
    }

    #[test]
    fn foreign_keys_read_only_for_links_are_told_apart() {
        let n = needs(r#"contact where has lead(status = "Open")"#);
        let key = ("lead".to_string(), "contact_id".to_string());
        assert!(n.fields["lead"].contains("contact_id"));
        assert!(n.links_only.contains(&key));
        let tested = needs(
            r#"contact where has lead(status = "Open" and contact_id = "00000000-0000-4000-8000-000000000001")"#,
        );
        assert!(!tested.links_only.contains(&key));
        // A store without the foreign key column cannot answer a test of it.
        assert!(!n.covers(&tested));
        assert!(tested.covers(&n));
    }

    #[test]
    fn covering_keeps_the_row_order_of_tables_read_without_keys() {
        let wide =
            needs(r#"contact where city = "Paris" and has lead(status = "Open" and score > 1)"#);
        // Fewer fields of a keyed table: covered.
        let fewer = needs(r#"contact where has lead(status = "Open" and score > 1)"#);
        assert!(wide.covers(&fewer));
        assert!(!fewer.covers(&wide));
        // Other fields of the unkeyed lead table: its rows may come in
        // another order, so not covered even though they are a subset.
        let other = needs(r#"contact where has lead(status = "Open")"#);
        assert!(!wide.covers(&other));
        // Keys wanted where the snapshot has none: not covered.
        let keyed = needs(r#"lead where status = "Open" and score > 1 and contact.city = "Paris""#);
        assert!(!wide.covers(&keyed));
        // Everything covers every plan's needs but those of unkeyed tables.
        let everything = Needs::of(None, &crm_schema()).unwrap();
        assert!(everything.covers(&fewer.clone_keyed_everywhere()));
        assert!(!everything.covers(&fewer));
    }

    impl Needs {
        /// The same needs with keys on every entity.
        fn clone_keyed_everywhere(&self) -> Needs {
            Needs {
                keyed: self.fields.keys().cloned().collect(),
                ..self.clone()
            }
        }
    }
}
