//! `segql schema [ENTITY]`: what can be written in a query on this schema.
//! The description comes from `segql::schema::describe`; this module only
//! lays it out as text or JSON.

use segql::schema::describe::{
    describe_entity, describe_schema, Cardinality, EntityDescription, FieldDescription, Reach,
    SchemaSummary,
};
use segql::schema::Schema;
use serde::Serialize;

use super::args::{SchemaArgs, SchemaFormat};
use super::compile::internal;
use super::failure::Failure;
use super::inputs::Workspace;

/// Lines of choice labels are wrapped before this column.
const WIDTH: usize = 88;

pub fn schema(workspace: &mut Workspace, args: &SchemaArgs) -> Result<(), Failure> {
    match &args.entity {
        None => {
            let summary = describe_schema(&workspace.schema);
            match args.format {
                SchemaFormat::Json => print_json(workspace, &summary)?,
                SchemaFormat::Text => print!("{}", summary_text(&summary)),
            }
        }
        Some(name) => {
            // The name is the text an unknown-entity error points into.
            workspace.with_query("<entity>".to_string(), name);
            let entity = describe_entity(&workspace.schema, name).map_err(|e| workspace.fail(e))?;
            match args.format {
                SchemaFormat::Json => print_json(workspace, &entity)?,
                SchemaFormat::Text => print!("{}", entity_text(&entity, &workspace.schema)),
            }
        }
    }
    Ok(())
}

/// The text `segql schema [ENTITY]` prints, for the shell's `.schema`.
pub fn text(schema: &Schema, entity: Option<&str>) -> Result<String, segql::Error> {
    Ok(match entity {
        None => summary_text(&describe_schema(schema)),
        Some(name) => entity_text(&describe_entity(schema, name)?, schema),
    })
}

fn print_json(workspace: &Workspace, value: &impl Serialize) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(value).map_err(|e| workspace.fail(internal(e)))?;
    println!("{json}");
    Ok(())
}

/// One line per entity: key, number of fields, where it leads, guards.
fn summary_text(summary: &SchemaSummary) -> String {
    let width = summary
        .entities
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for entity in &summary.entities {
        let mut parts = vec![format!("key {}, {} fields", entity.key, entity.fields)];
        for (direction, label) in [
            (Cardinality::ToOne, "to-one"),
            (Cardinality::ToMany, "to-many"),
        ] {
            let names = reach_names(&entity.relationships, direction);
            if !names.is_empty() {
                parts.push(format!("{label}: {}", names.join(", ")));
            }
        }
        if !entity.guards.is_empty() {
            parts.push(format!("guards: {}", entity.guards.join(", ")));
        }
        out.push_str(&format!(
            "{:width$}  {}\n",
            entity.name,
            parts.join("; "),
            width = width
        ));
    }
    out.push_str(
        "\n`segql schema ENTITY` shows an entity's fields, choice labels, relationships and guards.\n",
    );
    out
}

/// The names of one direction, once each (two links by one name need `via`).
fn reach_names(reaches: &[Reach], direction: Cardinality) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for reach in reaches.iter().filter(|r| r.direction == direction) {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&reach.name)) {
            names.push(reach.name.clone());
        }
    }
    names
}

fn entity_text(entity: &EntityDescription, schema: &Schema) -> String {
    let mut out = format!(
        "{} (table {}, key {})\n\nFields ({}):\n",
        entity.name,
        entity.table,
        entity.key,
        entity.fields.len()
    );
    let width = entity
        .fields
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    for field in &entity.fields {
        out.push_str(&field_text(field, width));
    }

    out.push_str(
        "\nRelationships (NAME goes in `has NAME(...)`; a to-one NAME also starts a path, NAME.field):\n",
    );
    if entity.relationships.is_empty() {
        out.push_str("  none\n");
    } else {
        let mut rows: Vec<[String; 5]> = vec![[
            "NAME".into(),
            "DIRECTION".into(),
            "ENTITY".into(),
            "RELATIONSHIP (via)".into(),
            "FOR EXAMPLE".into(),
        ]];
        rows.extend(entity.relationships.iter().map(|r| {
            [
                r.name.clone(),
                r.direction.name().to_string(),
                r.target.clone(),
                r.relationship.clone(),
                usage(r, schema),
            ]
        }));
        out.push_str(&columns(&rows));
    }
    if entity.relationships.iter().any(|r| r.needs_via) {
        out.push_str("  (several links share a name: write `has NAME via RELATIONSHIP(...)`)\n");
    }

    out.push_str("\nGuards (`--guard NAME` adds the condition to a query):\n");
    if entity.guards.is_empty() {
        out.push_str("  none\n");
    }
    let rows: Vec<[String; 2]> = entity
        .guards
        .iter()
        .map(|g| [g.name.clone(), g.condition.clone()])
        .collect();
    out.push_str(&columns(&rows));
    out
}

/// `  name   type, facts`, then a choice's labels, wrapped.
fn field_text(field: &FieldDescription, width: usize) -> String {
    let mut facts = vec![field.ty.to_string()];
    if field.key {
        facts.push("key".into());
    } else if !field.nullable {
        facts.push("never missing".into());
    }
    if let Some(target) = &field.links_to {
        facts.push(format!("links to {target}"));
    }
    match field.ordered {
        Some(true) => facts.push("ordered: <, <=, >, >=, between follow the order below".into()),
        Some(false) => facts.push("unordered: =, !=, in, is null".into()),
        None => {}
    }
    let mut out = format!("  {:width$}  {}\n", field.name, facts.join(", "));
    if let Some(labels) = &field.labels {
        let quoted: Vec<String> = labels
            .iter()
            .map(|l| segql::syntax::fmt::quote(&l.label))
            .collect();
        let indent = " ".repeat(width + 4);
        let mut line = indent.clone();
        for (i, label) in quoted.iter().enumerate() {
            let piece = if i + 1 < quoted.len() {
                format!("{label}, ")
            } else {
                label.clone()
            };
            if line.len() > indent.len() && line.len() + piece.trim_end().len() > WIDTH {
                out.push_str(line.trim_end());
                out.push('\n');
                line = indent.clone();
            }
            line.push_str(&piece);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// How a query writes this relationship; a path names the target's first
/// field after its key.
fn usage(reach: &Reach, schema: &Schema) -> String {
    let has = if reach.needs_via {
        format!("has {} via {}(...)", reach.name, reach.relationship)
    } else {
        format!("has {}(...)", reach.name)
    };
    let field = schema
        .entity(&reach.target)
        .and_then(|e| e.fields.iter().find(|f| f.name != e.key))
        .map_or("FIELD", |f| f.name.as_str());
    match (reach.direction, reach.needs_via) {
        (Cardinality::ToOne, false) => format!("{}.{field}, {has}", reach.name),
        (Cardinality::ToMany, false) => format!("{has}, count({})", reach.name),
        (_, true) => has,
    }
}

/// Rows laid out in columns two spaces apart, indented by two.
fn columns<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(" ");
        for (width, cell) in widths.iter().zip(row) {
            line.push(' ');
            line.push_str(cell);
            line.push_str(&" ".repeat(width - cell.chars().count() + 1));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
