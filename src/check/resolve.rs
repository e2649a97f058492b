//! Name resolution: entities, relationships (`has R [via NAME]`) and dotted
//! paths, all matched case-insensitively and answered with the schema's
//! canonical spelling, or with an error that suggests the nearest name.

use crate::error::{suggest, Error, Names, Result};
use crate::schema::describe::reaches;
use crate::schema::{Entity, Field, Relationship, Schema};
use crate::syntax::ast::{Ident, Path};

use super::names::PlanNames;
use crate::plan::{Direction, Link};

/// One way to go from an entity to a related one.
#[derive(Clone, Copy)]
pub(crate) struct Hop<'s> {
    pub rel: &'s Relationship,
    pub direction: Direction,
    pub from: &'s Entity,
    pub to: &'s Entity,
}

impl Hop<'_> {
    /// The plan's description of this hop, its names from `names`.
    pub fn link(&self, names: &mut PlanNames) -> Link {
        Link {
            relationship: names.of(&self.rel.name),
            direction: self.direction,
            from: names.of(&self.from.name),
            to: names.of(&self.to.name),
        }
    }

    /// The name by which `from` reaches `to` in the schema's spelling: the
    /// parent's reach name going up, the child entity's name going down.
    pub fn reach_name(&self) -> &str {
        match self.direction {
            Direction::ToParent => &self.rel.parent_reach,
            Direction::ToChildren => &self.to.name,
        }
    }
}

/// The entity named by `ident`.
pub(crate) fn entity<'s>(schema: &'s Schema, ident: &Ident) -> Result<&'s Entity> {
    schema.find_entity(&ident.name, ident.span)
}

/// The field `ident` of `entity`.
pub(crate) fn field<'s>(entity: &'s Entity, ident: &Ident) -> Result<&'s Field> {
    entity.find_field(&ident.name, ident.span)
}

/// Every hop from `from` whose reach name is `name` (case-insensitive):
/// relationships where `from` is the child and `parent_reach == name`, and
/// relationships where `from` is the parent and the child entity is `name`.
pub(crate) fn hops<'s>(schema: &'s Schema, from: &'s Entity, name: &str) -> Vec<Hop<'s>> {
    // Every `has` and aggregate hop asks this: one list, not two.
    let mut found = Vec::with_capacity(1);
    each_hop(schema, from, Some(name), |hop| found.push(hop));
    found
}

/// Every hop from `from`, in the schema's order of relationships.
pub(crate) fn all_hops<'s>(schema: &'s Schema, from: &'s Entity) -> Vec<Hop<'s>> {
    let mut found = Vec::new();
    each_hop(schema, from, None, |hop| found.push(hop));
    found
}

/// Hands each hop from `from` to `visit`, in the schema's order of
/// relationships; with `name`, only those whose reach name it is
/// (case-insensitive). The name is compared before the entity at the
/// other end is looked up: finding the one hop of a `has` was an eighth
/// of the checker's time when every relationship of the entity was
/// resolved first.
fn each_hop<'s>(
    schema: &'s Schema,
    from: &'s Entity,
    name: Option<&str>,
    mut visit: impl FnMut(Hop<'s>),
) {
    let named = |reach: &str| name.is_none_or(|name| reach.eq_ignore_ascii_case(name));
    for rel in &schema.relationships {
        if named(&rel.parent_reach) && rel.child.eq_ignore_ascii_case(&from.name) {
            if let Some(to) = schema.entity(&rel.parent) {
                visit(Hop {
                    rel,
                    direction: Direction::ToParent,
                    from,
                    to,
                });
            }
        }
        if named(&rel.child) && rel.parent.eq_ignore_ascii_case(&from.name) {
            if let Some(to) = schema.entity(&rel.child) {
                visit(Hop {
                    rel,
                    direction: Direction::ToChildren,
                    from,
                    to,
                });
            }
        }
    }
}

/// All names by which `from` reaches other entities, for suggestions.
fn reach_names<'s>(schema: &'s Schema, from: &Entity) -> Vec<&'s str> {
    let mut names = Vec::new();
    for rel in &schema.relationships {
        if rel.child.eq_ignore_ascii_case(&from.name) {
            names.push(rel.parent_reach.as_str());
        }
        if rel.parent.eq_ignore_ascii_case(&from.name) {
            names.push(rel.child.as_str());
        }
    }
    names
}

fn unknown_relationship(schema: &Schema, from: &Entity, ident: &Ident) -> Error {
    let mut all = reaches(schema, from);
    // One entry per name and direction: two links to `account` are one way
    // to write it (with `via`).
    let mut seen = Vec::new();
    all.retain(|r| {
        let key = (r.name.to_lowercase(), r.direction);
        let first = !seen.contains(&key);
        seen.push(key);
        first
    });
    Error::UnknownRelationship {
        name: ident.name.to_string(),
        entity: from.name.clone(),
        suggestion: suggest(&ident.name, reach_names(schema, from)),
        reaches: Names::pick(
            &ident.name,
            &all,
            |r| r.name.as_str(),
            |r| format!("{} ({})", r.name, r.direction.name()),
        ),
        span: ident.span,
    }
}

fn names_of(hops: &[Hop]) -> Vec<String> {
    hops.iter().map(|h| h.rel.name.clone()).collect()
}

/// The hop of `has R [via NAME]`: exactly one candidate, or the one `via`
/// names among several.
pub(crate) fn has_hop<'s>(
    schema: &'s Schema,
    from: &'s Entity,
    relation: &Ident,
    via: Option<&Ident>,
) -> Result<Hop<'s>> {
    // The usual case, one hop by that name and no `via`, needs no list.
    if via.is_none() {
        let (mut found, mut count) = (None, 0);
        each_hop(schema, from, Some(&relation.name), |hop| {
            found.get_or_insert(hop);
            count += 1;
        });
        if let (Some(hop), 1) = (found, count) {
            return Ok(hop);
        }
    }
    let candidates = hops(schema, from, &relation.name);
    if candidates.is_empty() {
        return Err(unknown_relationship(schema, from, relation));
    }
    match via {
        Some(via) => candidates
            .iter()
            .find(|h| h.rel.name.eq_ignore_ascii_case(&via.name))
            .copied()
            .ok_or_else(|| Error::UnknownVia {
                via: via.name.to_string(),
                name: relation.name.to_string(),
                entity: from.name.clone(),
                suggestion: suggest(&via.name, candidates.iter().map(|h| h.rel.name.as_str())),
                choices: names_of(&candidates),
                span: via.span,
            }),
        None if candidates.len() == 1 => Ok(candidates[0]),
        None => Err(Error::AmbiguousRelationship {
            name: relation.name.to_string(),
            entity: from.name.clone(),
            choices: names_of(&candidates),
            span: relation.span,
        }),
    }
}

/// One hop of a dotted path: it must be the only many-to-one link by that name.
pub(crate) fn path_hop<'s>(schema: &'s Schema, from: &'s Entity, ident: &Ident) -> Result<Hop<'s>> {
    let candidates = hops(schema, from, &ident.name);
    let up: Vec<Hop> = candidates
        .iter()
        .filter(|h| h.direction == Direction::ToParent)
        .copied()
        .collect();
    match up.len() {
        1 => Ok(up[0]),
        0 => {
            let reason = if let Some(down) = candidates.first() {
                format!(
                    "it is one-to-many (one {} can have many {} records); use `has {}(...)` instead",
                    from.name,
                    down.to.name,
                    down.to.name
                )
            } else if let Some(f) = from.field(&ident.name) {
                format!(
                    "'{}' is a field of {}, not a relationship, and only the last name of a path is a field",
                    f.name, from.name
                )
            } else {
                return Err(unknown_relationship(schema, from, ident));
            };
            Err(Error::NotManyToOne {
                name: ident.name.to_string(),
                entity: from.name.clone(),
                reason,
                span: ident.span,
            })
        }
        _ => Err(Error::AmbiguousRelationship {
            name: ident.name.to_string(),
            entity: from.name.clone(),
            choices: names_of(&up),
            span: ident.span,
        }),
    }
}

/// A resolved dotted path: the hops (all many-to-one) and the final field.
pub(crate) struct ResolvedPath<'s> {
    pub hops: Vec<Hop<'s>>,
    pub entity: &'s Entity,
    pub field: &'s Field,
}

/// Resolve `a.b.f` from `start`.
pub(crate) fn path<'s>(
    schema: &'s Schema,
    start: &'s Entity,
    path: &Path,
) -> Result<ResolvedPath<'s>> {
    let Some((last, hop_names)) = path.segments.split_last() else {
        return Err(Error::Internal {
            message: "a path without names reached the checker".into(),
        });
    };
    let mut entity = start;
    let mut hops = Vec::with_capacity(hop_names.len());
    for ident in hop_names {
        let hop = path_hop(schema, entity, ident)?;
        entity = hop.to;
        hops.push(hop);
    }
    let field = field(entity, last)?;
    Ok(ResolvedPath {
        hops,
        entity,
        field,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::crm_schema;

    fn ident(name: &str) -> Ident {
        Ident {
            name: name.into(),
            span: crate::span::Span::default(),
        }
    }

    /// `hops` compares the name before it resolves a hop, and `has_hop`
    /// without `via` answers a name only one hop has without building the
    /// list of candidates: each must find what filtering every hop by its
    /// reach name finds, in any case of the name, and `has_hop` must call
    /// a name two hops share ambiguous. A second relationship from lead to
    /// contact makes `has lead` from contact ambiguous; a lead reaches its
    /// contact through it as `referrer`, a reach name that is not the
    /// parent entity's.
    #[test]
    fn a_hop_found_without_the_list_is_the_one_the_list_holds() {
        let mut schema = crm_schema();
        let shared = schema
            .relationships
            .iter()
            .find(|rel| rel.name == "lead_parent_contact")
            .cloned()
            .expect("the built-in schema links leads to contacts");
        schema.relationships.push(Relationship {
            name: "lead_referred_by_contact".into(),
            parent_reach: "referrer".into(),
            ..shared
        });
        let (mut unique, mut ambiguous) = (0, 0);
        for from in &schema.entities {
            for hop in all_hops(&schema, from) {
                let name = hop.reach_name().to_uppercase();
                let candidates = hops(&schema, from, &name);
                let every_hop = all_hops(&schema, from);
                let by_reach_name: Vec<_> = every_hop
                    .iter()
                    .filter(|hop| hop.reach_name().eq_ignore_ascii_case(&name))
                    .collect();
                assert_eq!(candidates.len(), by_reach_name.len(), "{name}");
                for (found, expected) in candidates.iter().zip(by_reach_name) {
                    assert!(std::ptr::eq(found.rel, expected.rel), "{name}");
                    assert_eq!(found.direction, expected.direction, "{name}");
                }
                match (
                    candidates.as_slice(),
                    has_hop(&schema, from, &ident(&name), None),
                ) {
                    ([only], Ok(found)) => {
                        assert!(
                            std::ptr::eq(found.rel, only.rel),
                            "{name} from {}",
                            from.name
                        );
                        assert_eq!(found.direction, only.direction);
                        unique += 1;
                    }
                    ([_, _, ..], Err(Error::AmbiguousRelationship { .. })) => ambiguous += 1,
                    (candidates, found) => panic!(
                        "{name} from {}: {} candidates, found {:?}",
                        from.name,
                        candidates.len(),
                        found.map(|hop| &hop.rel.name)
                    ),
                }
            }
        }
        assert!(
            unique > 0 && ambiguous > 0,
            "{unique} unique, {ambiguous} ambiguous"
        );
    }
}
