//! Plans written as text, for the cases that segql text cannot state (a
//! value of another type than the checker would make, a choice without its
//! label, `not not`, a `between` whose bounds cross, …). The notation is the
//! one the optimizer snapshots print (`crate::optimize::fixtures::show`):
//!
//! ```text
//! true   false   not X   (X and Y and …)   (X or Y or …)
//! has [no | at least N | at most N | exactly N] RELATIONSHIP=>ENTITY(X)   to children
//! has … RELATIONSHIP->ENTITY(X)                                          to the parent
//! ENTITY.FIELD = V   (also <, <=, >, >=)
//! ENTITY.FIELD is not null
//! ENTITY.FIELD in [V, V, …]
//! ENTITY.FIELD between V and V
//! ENTITY.FIELD Contains "P"   (also StartsWith, EndsWith)
//! ```
//!
//! Values: `"text"` (Rust escapes), `"Label"#3` (a choice; `""#3` has no
//! label), `42` (integer), `2.5` or `1e300` (decimal), `true`, a uuid,
//! `2024-05-01` (date), `2024-05-01T10:30:00Z` (date-time), `today-5d`
//! (days on a date field), `now-3600s` and `today-86400s` (seconds from the
//! reference time, or from its midnight, on a date-time field).
//!
//! A field's value type comes from the schema, as the checker gives it.

use chrono::{DateTime, NaiveDate, Utc};
use segql::plan::*;
use segql::schema::Schema;
use uuid::Uuid;

/// The plan expression `text` states, on records of `entity`.
pub fn parse(text: &str, entity: &str, schema: &Schema) -> Result<PlanExpr, String> {
    let tokens = tokens(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        schema,
    };
    let expr = parser.expr(entity)?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(extra) => Err(format!("unexpected {extra:?} after the plan")),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
    Text(String),
    Word(String),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        let punctuation = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            '[' => Some(Token::OpenList),
            ']' => Some(Token::CloseList),
            ',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(token) = punctuation {
            chars.next();
            out.push(token);
        } else if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            out.push(Token::Text(string(&mut chars)?));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || "()[],\"".contains(c) {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(Token::Word(word));
        }
    }
    Ok(out)
}

/// The rest of a string after its opening quote, with Rust's escapes.
fn string(chars: &mut impl Iterator<Item = char>) -> Result<String, String> {
    let mut s = String::new();
    loop {
        match chars.next().ok_or("unterminated string")? {
            '"' => return Ok(s),
            '\\' => match chars.next().ok_or("unterminated escape")? {
                'n' => s.push('\n'),
                't' => s.push('\t'),
                'r' => s.push('\r'),
                '0' => s.push('\0'),
                'u' => {
                    let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let hex = hex.strip_prefix('{').ok_or("bad \\u escape")?;
                    let code = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                    s.push(char::from_u32(code).ok_or("bad \\u escape")?);
                }
                other => s.push(other),
            },
            c => s.push(c),
        }
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    schema: &'a Schema,
}

impl Parser<'_> {
    fn next(&mut self) -> Result<Token, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("unexpected end")?;
        self.at += 1;
        Ok(token)
    }

    fn word(&mut self) -> Result<String, String> {
        match self.next()? {
            Token::Word(w) => Ok(w),
            other => Err(format!("expected a word, found {other:?}")),
        }
    }

    fn expect(&mut self, token: Token) -> Result<(), String> {
        let found = self.next()?;
        if found == token {
            Ok(())
        } else {
            Err(format!("expected {token:?}, found {found:?}"))
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), String> {
        self.expect(Token::Word(word.into()))
    }

    fn peek_word(&self, word: &str) -> bool {
        self.tokens.get(self.at) == Some(&Token::Word(word.into()))
    }

    fn expr(&mut self, entity: &str) -> Result<PlanExpr, String> {
        match self.next()? {
            Token::Open => self.list(entity),
            Token::Word(w) => match w.as_str() {
                "true" => Ok(PlanExpr::Const(true)),
                "false" => Ok(PlanExpr::Const(false)),
                "not" => Ok(PlanExpr::Not(Box::new(self.expr(entity)?))),
                "has" => self.related(entity),
                _ => self.field_test(&w),
            },
            other => Err(format!("expected a plan, found {other:?}")),
        }
    }

    /// `(X and Y …)` or `(X or Y …)`, after the `(`.
    fn list(&mut self, entity: &str) -> Result<PlanExpr, String> {
        let mut items = vec![self.expr(entity)?];
        let mut joiner: Option<String> = None;
        loop {
            match self.next()? {
                Token::Close => break,
                Token::Word(w) if w == "and" || w == "or" => {
                    if joiner.as_ref().is_some_and(|j| *j != w) {
                        return Err("`and` and `or` mixed in one list".into());
                    }
                    joiner = Some(w);
                    items.push(self.expr(entity)?);
                }
                other => return Err(format!("expected `and`, `or` or `)`, found {other:?}")),
            }
        }
        match joiner.as_deref() {
            Some("and") => Ok(PlanExpr::And(items)),
            Some(_) => Ok(PlanExpr::Or(items)),
            None => Err("a list of one: write the item alone".into()),
        }
    }

    /// After `has`: the quantifier, the link and the filter.
    fn related(&mut self, from: &str) -> Result<PlanExpr, String> {
        let count = |p: &mut Self| -> Result<u64, String> {
            let n = p.word()?;
            n.parse().map_err(|_| format!("bad count {n}"))
        };
        let quantifier = if self.peek_word("no") {
            self.at += 1;
            Quantifier::No
        } else if self.peek_word("at") {
            self.at += 1;
            match self.word()?.as_str() {
                "least" => Quantifier::AtLeast(count(self)?),
                "most" => Quantifier::AtMost(count(self)?),
                other => return Err(format!("`at {other}`")),
            }
        } else if self.peek_word("exactly") {
            self.at += 1;
            Quantifier::Exactly(count(self)?)
        } else {
            Quantifier::Any
        };
        let link = self.word()?;
        let (relationship, direction, to) = if let Some((r, to)) = link.split_once("=>") {
            (r, Direction::ToChildren, to)
        } else if let Some((r, to)) = link.split_once("->") {
            (r, Direction::ToParent, to)
        } else {
            return Err(format!(
                "expected RELATIONSHIP=>ENTITY or ->ENTITY, found {link}"
            ));
        };
        self.schema
            .relationship(relationship)
            .ok_or_else(|| format!("no relationship {relationship}"))?;
        self.expect(Token::Open)?;
        let filter = self.expr(to)?;
        self.expect(Token::Close)?;
        Ok(PlanExpr::Related(Related {
            link: Link {
                relationship: relationship.into(),
                direction,
                from: from.into(),
                to: to.into(),
            },
            quantifier,
            filter: Box::new(filter),
        }))
    }

    /// A test of `path` (`entity.field`), whose name was just read.
    fn field_test(&mut self, path: &str) -> Result<PlanExpr, String> {
        let (entity, field) = path
            .split_once('.')
            .ok_or_else(|| format!("expected ENTITY.FIELD, found {path}"))?;
        let ty = self
            .schema
            .entity(entity)
            .and_then(|e| e.field(field))
            .map(|f| segql::check::value_type(&f.ty))
            .ok_or_else(|| format!("no field {path}"))?;
        let op = self.word()?;
        let test = match op.as_str() {
            "=" | "<" | "<=" | ">" | ">=" => Test::Compare {
                op: match op.as_str() {
                    "=" => CmpOp::Eq,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                },
                value: self.value()?,
            },
            "is" => {
                self.expect_word("not")?;
                self.expect_word("null")?;
                Test::IsNotNull
            }
            "in" => {
                self.expect(Token::OpenList)?;
                let mut values = Vec::new();
                if self.tokens.get(self.at) == Some(&Token::CloseList) {
                    self.at += 1;
                } else {
                    loop {
                        values.push(self.value()?);
                        match self.next()? {
                            Token::Comma => continue,
                            Token::CloseList => break,
                            other => return Err(format!("expected `,` or `]`, found {other:?}")),
                        }
                    }
                }
                Test::InList(values)
            }
            "between" => {
                let low = self.value()?;
                self.expect_word("and")?;
                let high = self.value()?;
                Test::between(low, high)
            }
            "Contains" | "StartsWith" | "EndsWith" => {
                let op = match op.as_str() {
                    "Contains" => TextOp::Contains,
                    "StartsWith" => TextOp::StartsWith,
                    _ => TextOp::EndsWith,
                };
                match self.next()? {
                    Token::Text(pattern) => Test::Text { op, pattern },
                    other => return Err(format!("expected a pattern, found {other:?}")),
                }
            }
            other => return Err(format!("unknown test `{other}` on {path}")),
        };
        Ok(PlanExpr::Field(FieldTest {
            field: FieldRef {
                entity: entity.into(),
                field: field.into(),
                ty,
            },
            test,
        }))
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.next()? {
            Token::Text(s) => match self.tokens.get(self.at) {
                Some(Token::Word(w)) if w.starts_with('#') => {
                    let code = w[1..].parse().map_err(|_| format!("bad choice code {w}"))?;
                    self.at += 1;
                    Ok(Value::Choice {
                        code,
                        label: s.into(),
                    })
                }
                _ => Ok(Value::Text(s)),
            },
            Token::Word(w) => word_value(&w),
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
}

fn word_value(w: &str) -> Result<Value, String> {
    let signed = |digits: &str| -> Result<i64, String> {
        digits.parse().map_err(|_| format!("bad relative time {w}"))
    };
    if w == "true" || w == "false" {
        return Ok(Value::Bool(w == "true"));
    }
    for (base, midnight) in [("today", true), ("now", false)] {
        if let Some(rest) = w.strip_prefix(base) {
            return if let Some(days) = rest.strip_suffix('d').filter(|_| midnight) {
                Ok(Value::TodayPlusDays(signed(days)?))
            } else if let Some(seconds) = rest.strip_suffix('s') {
                Ok(Value::NowPlusSeconds {
                    seconds: signed(seconds)?,
                    midnight,
                })
            } else {
                Err(format!("bad relative time {w}"))
            };
        }
    }
    if w.len() == 36 {
        if let Ok(uuid) = Uuid::parse_str(w) {
            return Ok(Value::Uuid(uuid));
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(w) {
        return Ok(Value::DateTime(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(w, "%Y-%m-%d") {
        return Ok(Value::Date(d));
    }
    if let Ok(n) = w.parse::<i64>() {
        return Ok(Value::Integer(n));
    }
    w.parse::<f64>()
        .map(Value::Decimal)
        .map_err(|_| format!("not a value: {w}"))
}
