//! Schema files: the example file is the built-in schema, defaults apply as
//! documented, and every bad schema in `tests/schemas/bad_*.toml` is refused
//! with a message saying what and where.

use std::path::Path;

use segql::schema::{self, load_schema_file, load_schema_toml, FieldType};
use segql::Error;

fn example_path() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/crm-schema.toml"
    ))
}

#[test]
fn example_file_is_the_builtin_schema() {
    let loaded = load_schema_file(example_path()).expect("example schema loads");
    assert_eq!(loaded, schema::crm_schema());
}

#[test]
fn builtin_schema_is_valid() {
    schema::crm_schema()
        .validate()
        .expect("built-in schema is valid");
}

#[test]
fn defaults_fill_table_column_key_nullable_and_parent_reach() {
    let schema = load_schema_toml(
        r#"
        [[entity]]
        name = "company"
        fields = [{ name = "id", type = "uuid" }]

        [[entity]]
        name = "person"
        table = "people"
        fields = [
          { name = "id", type = "uuid" },
          { name = "mail", column = "EMailAddress1", type = "text" },
          { name = "company_id", type = "uuid" },
          { name = "level", type = "choice", ordered = true, options = { "Low" = 3, "High" = 1 } },
        ]

        [[relationship]]
        name = "person_company"
        child = "person"
        child_field = "company_id"
        parent = "company"
        "#,
    )
    .expect("valid schema");
    let company = schema.entity("company").expect("company");
    assert_eq!(company.table, "company");
    assert_eq!(company.key, "id");
    let person = schema.entity("PERSON").expect("person");
    assert_eq!(person.table, "people");
    let id = person.field("id").expect("id");
    assert!(!id.nullable, "the key is never null");
    let mail = person.field("mail").expect("mail");
    assert_eq!(mail.column, "EMailAddress1");
    assert!(mail.nullable);
    let FieldType::Choice(level) = &person.field("level").expect("level").ty else {
        panic!("level is a choice");
    };
    assert!(level.ordered);
    // Options keep the file's order.
    let labels: Vec<_> = level.options.iter().map(|o| o.label.as_str()).collect();
    assert_eq!(labels, ["Low", "High"]);
    assert_eq!(schema.relationships[0].parent_reach, "company");
}

#[test]
fn fields_may_be_written_as_tables() {
    let schema = load_schema_toml(
        r#"
        [[entity]]
        name = "person"

        [[entity.fields]]
        name = "id"
        type = "uuid"

        [[entity.fields]]
        name = "email"
        type = "text"
        "#,
    )
    .expect("valid schema");
    assert_eq!(schema.entities[0].fields.len(), 2);
}

#[test]
fn syntax_errors_give_line_and_column() {
    let err = load_schema_toml(
        "[[entity]]\nname = \"x\"\nfields = [\n  { name = \"id\" type = \"uuid\" },\n]\n",
    )
    .expect_err("bad TOML");
    let Error::Schema { message } = &err else {
        panic!("schema error expected, got {err:?}");
    };
    assert!(message.starts_with("line 4, column "), "{message}");
}

#[test]
fn missing_file_is_a_schema_error_naming_the_file() {
    let err = load_schema_file(Path::new("no/such/schema.toml")).expect_err("missing");
    assert!(matches!(err, Error::Schema { .. }));
    assert!(err.to_string().contains("no/such/schema.toml"), "{err}");
}

#[test]
fn bad_schemas_are_refused_with_clear_messages() {
    insta::glob!("../..", "schemas/bad_*.toml", |path| {
        let text = std::fs::read_to_string(path).expect("fixture readable");
        match load_schema_toml(&text) {
            Ok(_) => panic!("{} should be refused", path.display()),
            Err(e) => {
                assert!(matches!(e, Error::Schema { .. }), "{e:?}");
                insta::assert_snapshot!(e.to_string());
            }
        }
    });
}

#[test]
fn good_fixture_schemas_load() {
    insta::glob!("../..", "schemas/[!b]*.toml", |path| {
        load_schema_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    });
}

#[test]
fn references_take_the_spelling_of_their_definitions() {
    let schema = load_schema_toml(
        r#"
        [[entity]]
        name = "Company"
        key = "ID"
        fields = [{ name = "id", type = "uuid" }]

        [[entity]]
        name = "person"
        fields = [
          { name = "id", type = "uuid" },
          { name = "companyId", type = "uuid" },
        ]

        [[relationship]]
        name = "person_company"
        child = "PERSON"
        child_field = "companyid"
        parent = "company"
        "#,
    )
    .expect("valid schema");
    assert_eq!(schema.entities[0].key, "id");
    let rel = &schema.relationships[0];
    assert_eq!(
        (
            rel.child.as_str(),
            rel.child_field.as_str(),
            rel.parent.as_str()
        ),
        ("person", "companyId", "Company")
    );
    // The reach name defaults to the parent as written in the relationship.
    assert_eq!(rel.parent_reach, "company");
}
