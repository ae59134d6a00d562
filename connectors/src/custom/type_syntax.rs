//! The type syntax of connector manifests: exactly what `Type`'s `Display` prints, so a signature reads the same in
//! a manifest, in `pilot connectors list` and in diagnostics: `string`, `list<int>`, `{name: string, size: int}`,
//! `{path: string, ..}` (an open object), `any`.

use expr_grammar::{ObjectType, Type};

/// Nesting beyond this is refused rather than recursed into.
const MAX_DEPTH: usize = 32;

pub fn parse_type(text: &str) -> Result<Type, String> {
    let mut parser = TypeParser { text, position: 0 };
    let ty = parser.parse(0)?;
    parser.skip_spaces();
    match parser.rest() {
        "" => Ok(ty),
        rest => Err(format!("unexpected `{rest}` after the type in `{text}`")),
    }
}

struct TypeParser<'a> {
    text: &'a str,
    position: usize,
}

impl TypeParser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.position..]
    }

    fn skip_spaces(&mut self) {
        let trimmed = self.rest().trim_start();
        self.position = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_spaces();
        if self.rest().starts_with(token) {
            self.position += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(format!("expected `{token}` at `{}` in `{}`", self.rest(), self.text))
        }
    }

    fn word(&mut self) -> &str {
        self.skip_spaces();
        let start = self.position;
        let len = self.rest().find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(self.rest().len());
        self.position += len;
        &self.text[start..self.position]
    }

    fn parse(&mut self, depth: usize) -> Result<Type, String> {
        if depth > MAX_DEPTH {
            return Err(format!("type nested deeper than {MAX_DEPTH} levels in `{}`", self.text));
        }
        if self.eat("{") {
            return self.parse_object(depth);
        }
        let word = self.word().to_string();
        Ok(match word.as_str() {
            "null" => Type::Null,
            "bool" => Type::Bool,
            "int" => Type::Int,
            "float" => Type::Float,
            "string" => Type::String,
            "duration" => Type::Duration,
            "timestamp" => Type::Timestamp,
            "any" => Type::Any,
            "list" => {
                self.expect("<")?;
                let of = self.parse(depth + 1)?;
                self.expect(">")?;
                Type::list(of)
            }
            "" => return Err(format!("expected a type at `{}` in `{}`", self.rest(), self.text)),
            other => {
                return Err(format!(
                    "unknown type `{other}` in `{}` (types: null, bool, int, float, string, duration, timestamp, any, list<T>, {{field: T, ..}})",
                    self.text
                ));
            }
        })
    }

    fn parse_object(&mut self, depth: usize) -> Result<Type, String> {
        let mut object = ObjectType::default();
        loop {
            if self.eat("}") {
                return Ok(Type::Object(object));
            }
            if self.eat("..") {
                object.open = true;
                self.expect("}")?;
                return Ok(Type::Object(object));
            }
            let name = self.word().to_string();
            if name.is_empty() {
                return Err(format!("expected a field name at `{}` in `{}`", self.rest(), self.text));
            }
            self.expect(":")?;
            let ty = self.parse(depth + 1)?;
            object.fields.insert(name, ty);
            if !self.eat(",") {
                self.expect("}")?;
                return Ok(Type::Object(object));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_type;
    use expr_grammar::Type;

    #[test]
    fn every_type_reads_back_as_it_prints() {
        for text in ["string", "list<int>", "{name: string, size: int}", "{path: string, ..}", "{..}", "list<{a: any}>"]
        {
            let ty = parse_type(text).unwrap();
            assert_eq!(ty.to_string(), text);
        }
        assert_eq!(parse_type(" list< float > ").unwrap(), Type::list(Type::Float));
    }

    #[test]
    fn bad_types_say_what_is_wrong() {
        assert!(parse_type("strng").unwrap_err().contains("unknown type `strng`"));
        assert!(parse_type("list<int").unwrap_err().contains("expected `>`"));
        assert!(parse_type("{a int}").unwrap_err().contains("expected `:`"));
        assert!(parse_type("int int").unwrap_err().contains("unexpected `int`"));
        let deep = format!("{}int{}", "list<".repeat(100), ">".repeat(100));
        assert!(parse_type(&deep).unwrap_err().contains("nested deeper"));
    }
}
