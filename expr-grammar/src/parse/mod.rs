//! Text to AST: the pest grammar, a nesting pre-check, and a Pratt parser for operator precedence.

mod literals;
mod template;

use crate::SyntaxError;
use crate::ast::{BinaryOp, Expr, ExprKind, Ident, Literal, UnaryOp};
use crate::span::Span;
use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::LazyLock;

pub(crate) use template::parse_template;

/// Expressions nested deeper than this (brackets, operators, accesses) are rejected, never overflow the stack.
pub const MAX_DEPTH: usize = 64;
/// Longest accepted expression text, in bytes.
pub const MAX_LENGTH: usize = 64 * 1024;

#[derive(pest_derive::Parser)]
#[grammar = "parse/grammar.pest"]
struct ExprParser;

/// Precedence, loosest first: `||`, `&&`, `== !=`, `< <= > >= in`, `+ -`, `* / %`, prefix `- !`, postfix.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or, Assoc::Left))
        .op(Op::infix(Rule::and, Assoc::Left))
        .op(Op::infix(Rule::eq, Assoc::Left) | Op::infix(Rule::ne, Assoc::Left))
        .op(Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left)
            | Op::infix(Rule::in_op, Assoc::Left))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left) | Op::infix(Rule::rem, Assoc::Left))
        .op(Op::prefix(Rule::neg) | Op::prefix(Rule::not))
        .op(Op::postfix(Rule::field) | Op::postfix(Rule::index) | Op::postfix(Rule::wildcard))
});

/// Parse a bare expression whose text starts at byte `offset` of the string spans refer to.
pub(crate) fn parse_expression_at(text: &str, offset: usize) -> Result<Expr, Vec<SyntaxError>> {
    check_size(text, offset)?;
    let pairs = ExprParser::parse(Rule::expression, text).map_err(|e| vec![pest_error(e, text, offset)])?;
    let builder = Builder { offset };
    let expr_pair = pairs.into_iter().next().and_then(|p| p.into_inner().next());
    let Some(expr_pair) = expr_pair else {
        return Err(vec![error_at(Span::new(offset, offset + text.len()), "empty expression", None)]);
    };
    builder.expr(expr_pair).map(|(expr, _)| expr).map_err(|e| vec![e])
}

/// Reject empty, over-long and over-nested text before pest sees it: pest and the Pratt parser recurse
/// once per bracket or prefix operator, so `((((...` could otherwise overflow the stack.
fn check_size(text: &str, offset: usize) -> Result<(), Vec<SyntaxError>> {
    let whole = Span::new(offset, offset + text.len());
    if text.trim().is_empty() {
        let hint = Some("write an expression, such as `item.name`".to_string());
        return Err(vec![error_at(whole, "empty expression", hint)]);
    }
    if text.len() > MAX_LENGTH {
        let message = format!("expression is {} bytes long; the limit is {MAX_LENGTH}", text.len());
        return Err(vec![error_at(whole, &message, Some("split it into variables or steps".into()))]);
    }
    match deepest_nesting(text) {
        Some(at) => Err(vec![too_deep(Span::new(offset + at, offset + at + 1))]),
        None => Ok(()),
    }
}

/// The byte position where bracket nesting plus a run of prefix operators first exceeds [`MAX_DEPTH`].
fn deepest_nesting(text: &str) -> Option<usize> {
    let (mut depth, mut prefix_run, mut quote): (usize, usize, Option<char>) = (0, 0, None);
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '!' | '-' => prefix_run += 1,
            c if c.is_whitespace() => continue,
            _ => {}
        }
        if !matches!(c, '!' | '-') {
            prefix_run = 0;
        }
        if depth + prefix_run > MAX_DEPTH {
            return Some(at);
        }
    }
    None
}

fn too_deep(span: Span) -> SyntaxError {
    SyntaxError {
        span,
        message: format!("expression is nested deeper than {MAX_DEPTH} levels"),
        hint: Some("split it into smaller expressions".to_string()),
        related: None,
    }
}

fn error_at(span: Span, message: &str, hint: Option<String>) -> SyntaxError {
    SyntaxError { span, message: message.to_string(), hint, related: None }
}

fn pest_error(error: pest::error::Error<Rule>, text: &str, offset: usize) -> SyntaxError {
    let (start, end) = match error.location {
        pest::error::InputLocation::Pos(p) => (p, next_char_end(text, p)),
        pest::error::InputLocation::Span((s, e)) => (s, e.max(next_char_end(text, s))),
    };
    let (mut message, wants_operand) = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            (expected_message(positives), positives.iter().any(starts_operand))
        }
        pest::error::ErrorVariant::CustomError { message } => (message.clone(), false),
    };
    let span = Span::new(offset + start, offset + end);
    let Some((open_at, open)) = open_brackets(text, start).pop() else {
        return SyntaxError { span, message, hint: None, related: None };
    };
    let close = closer_of(open);
    let opened = Span::new(offset + open_at, offset + open_at + 1);
    // Where the parser stopped, the bracket should have been closed: name it instead of listing operators.
    let found = text[start..].chars().next();
    let should_close = match found {
        None => !wants_operand,
        Some(',') => open == '(' && !is_call_paren(text, open_at),
        Some(c) => ")]}".contains(c) && c != close,
    };
    if should_close {
        let found = found.map_or("the end of the expression".to_string(), |c| format!("`{c}`"));
        message = format!("expected `{close}` to close `{open}`, found {found}");
    } else if found.is_some() {
        return SyntaxError { span, message, hint: None, related: None };
    }
    SyntaxError {
        span,
        message,
        hint: Some(format!("add the missing `{close}`")),
        related: Some((opened, format!("this `{open}` is not closed"))),
    }
}

/// Whether the parser, failing on `rule`, wanted an operand (an operator was just read): then the end of the text
/// is a missing operand, not a missing bracket.
fn starts_operand(rule: &Rule) -> bool {
    matches!(
        rule,
        Rule::expr
            | Rule::name
            | Rule::call
            | Rule::list
            | Rule::object
            | Rule::null
            | Rule::boolean
            | Rule::duration
            | Rule::float
            | Rule::int
            | Rule::string
            | Rule::neg
            | Rule::not
            | Rule::pair
            | Rule::word
    )
}

/// The brackets still open just before byte `at` (outside string literals), innermost last, with their position.
fn open_brackets(text: &str, at: usize) -> Vec<(usize, char)> {
    let mut open = Vec::new();
    let (mut quote, mut escaped) = (None::<char>, false);
    for (i, c) in text[..at.min(text.len())].char_indices() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                _ if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => open.push((i, c)),
            ')' | ']' | '}' if open.last().is_some_and(|&(_, o)| closer_of(o) == c) => {
                open.pop();
            }
            _ => {}
        }
    }
    open
}

fn closer_of(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

/// Whether the `(` at `at` starts a call's arguments (it follows a function name), where commas belong.
fn is_call_paren(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end();
    let word_start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let word = &before[word_start..];
    word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && word != "in"
}

/// "expected an expression or `)`", each alternative named once.
fn expected_message(positives: &[Rule]) -> String {
    let mut names: Vec<String> = Vec::new();
    for rule in positives {
        let name = rule_description(rule);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.as_slice() {
        [] => "unexpected input".to_string(),
        [one] => format!("expected {one}"),
        [init @ .., last] => format!("expected {} or {last}", init.join(", ")),
    }
}

fn next_char_end(text: &str, at: usize) -> usize {
    text[at.min(text.len())..].chars().next().map_or(at, |c| at + c.len_utf8())
}

fn rule_description(rule: &Rule) -> String {
    let text = match rule {
        Rule::EOI => "end of expression",
        Rule::expr | Rule::expression => "an expression",
        Rule::or | Rule::and | Rule::eq | Rule::ne | Rule::le | Rule::ge | Rule::lt | Rule::gt => "an operator",
        Rule::in_op | Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::rem => "an operator",
        Rule::neg | Rule::not => "a prefix operator",
        Rule::field => "`.field`",
        Rule::wildcard | Rule::index => "`[index]`",
        Rule::call => "a function call",
        Rule::list => "a list `[...]`",
        Rule::object => "an object `{...}`",
        Rule::pair => "`key: value`",
        Rule::null | Rule::boolean | Rule::duration | Rule::float | Rule::int | Rule::string => "a literal",
        Rule::name | Rule::word | Rule::keyword => "a name",
        other => return format!("{other:?}"),
    };
    text.to_string()
}

/// Builds the AST from pest pairs, tracking each node's depth so deep trees fail before they are built.
struct Builder {
    offset: usize,
}

type Built = Result<(Expr, usize), SyntaxError>;

impl Builder {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn ident(&self, pair: &Pair<Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(pair) }
    }

    /// `pair` is a `Rule::expr`: operands and infix operators, folded by precedence.
    fn expr(&self, pair: Pair<Rule>) -> Built {
        self.pratt(pair.into_inner())
    }

    fn pratt(&self, pairs: Pairs<Rule>) -> Built {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, operand| self.prefix(op, operand?))
            .map_postfix(|target, op| self.postfix(target?, op))
            .map_infix(|left, op, right| self.infix(left?, op, right?))
            .parse(pairs)
    }

    fn node(&self, span: Span, kind: ExprKind, depth: usize) -> Built {
        if depth > MAX_DEPTH {
            return Err(too_deep(span));
        }
        Ok((Expr::new(span, kind), depth))
    }

    fn prefix(&self, op: Pair<Rule>, (operand, depth): (Expr, usize)) -> Built {
        let op_kind = if op.as_rule() == Rule::neg { UnaryOp::Neg } else { UnaryOp::Not };
        let span = self.span(&op).to(operand.span);
        self.node(span, ExprKind::Unary { op: op_kind, operand: Box::new(operand) }, depth + 1)
    }

    fn postfix(&self, (target, depth): (Expr, usize), op: Pair<Rule>) -> Built {
        let span = target.span.to(self.span(&op));
        let target = Box::new(target);
        match op.as_rule() {
            Rule::field => {
                let word = op.into_inner().next().expect("grammar: field has a word");
                self.node(span, ExprKind::Field { target, field: self.ident(&word) }, depth + 1)
            }
            Rule::wildcard => self.node(span, ExprKind::Wildcard { target }, depth + 1),
            _ => {
                let inner = op.into_inner().next().expect("grammar: index has an expression");
                let (index, index_depth) = self.expr(inner)?;
                self.node(span, ExprKind::Index { target, index: Box::new(index) }, depth.max(index_depth) + 1)
            }
        }
    }

    fn infix(&self, (left, left_depth): (Expr, usize), op: Pair<Rule>, (right, right_depth): (Expr, usize)) -> Built {
        let op_kind = match op.as_rule() {
            Rule::or => BinaryOp::Or,
            Rule::and => BinaryOp::And,
            Rule::eq => BinaryOp::Eq,
            Rule::ne => BinaryOp::Ne,
            Rule::lt => BinaryOp::Lt,
            Rule::le => BinaryOp::Le,
            Rule::gt => BinaryOp::Gt,
            Rule::ge => BinaryOp::Ge,
            Rule::in_op => BinaryOp::In,
            Rule::add => BinaryOp::Add,
            Rule::sub => BinaryOp::Sub,
            Rule::mul => BinaryOp::Mul,
            Rule::div => BinaryOp::Div,
            _ => BinaryOp::Rem,
        };
        let span = left.span.to(right.span);
        let kind =
            ExprKind::Binary { op: op_kind, op_span: self.span(&op), left: Box::new(left), right: Box::new(right) };
        self.node(span, kind, left_depth.max(right_depth) + 1)
    }

    fn primary(&self, pair: Pair<Rule>) -> Built {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr => self.expr(pair),
            Rule::name => self.node(span, ExprKind::Name(self.ident(&pair)), 1),
            Rule::call => self.call(pair),
            Rule::list => {
                let (items, depth) = self.all(pair.into_inner())?;
                self.node(span, ExprKind::List(items), depth + 1)
            }
            Rule::object => self.object(pair),
            _ => self.node(span, ExprKind::Literal(self.literal(pair)?), 1),
        }
    }

    fn all(&self, pairs: Pairs<Rule>) -> Result<(Vec<Expr>, usize), SyntaxError> {
        let mut depth = 0;
        let mut items = Vec::new();
        for pair in pairs {
            let (item, item_depth) = self.expr(pair)?;
            depth = depth.max(item_depth);
            items.push(item);
        }
        Ok((items, depth))
    }

    fn call(&self, pair: Pair<Rule>) -> Built {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let function = self.ident(&inner.next().expect("grammar: call has a name"));
        let (args, depth) = self.all(inner)?;
        self.node(span, ExprKind::Call { function, args }, depth + 1)
    }

    fn object(&self, pair: Pair<Rule>) -> Built {
        let span = self.span(&pair);
        let mut depth = 0;
        let mut entries = Vec::new();
        for entry in pair.into_inner() {
            let mut inner = entry.into_inner();
            let key_pair = inner.next().expect("grammar: pair has a key");
            let key = match key_pair.as_rule() {
                Rule::string => Ident { name: self.string(&key_pair)?, span: self.span(&key_pair) },
                _ => self.ident(&key_pair),
            };
            let (value, value_depth) = self.expr(inner.next().expect("grammar: pair has a value"))?;
            depth = depth.max(value_depth);
            entries.push((key, value));
        }
        self.node(span, ExprKind::Object(entries), depth + 1)
    }

    fn literal(&self, pair: Pair<Rule>) -> Result<Literal, SyntaxError> {
        let span = self.span(&pair);
        let text = pair.as_str();
        let bad = |message: &str| error_at(span, message, None);
        Ok(match pair.as_rule() {
            Rule::null => Literal::Null,
            Rule::boolean => Literal::Bool(text == "true"),
            Rule::int => Literal::Int(text.parse().map_err(|_| bad("integer literal is too large"))?),
            Rule::float => Literal::Float(text.parse().map_err(|_| bad("invalid number"))?),
            Rule::duration => {
                Literal::Duration(literals::parse_duration(text).ok_or_else(|| bad("duration literal is too large"))?)
            }
            _ => Literal::String(self.string(&pair)?),
        })
    }

    fn string(&self, pair: &Pair<Rule>) -> Result<String, SyntaxError> {
        let start = self.offset + pair.as_span().start();
        literals::unescape(pair.as_str(), start)
    }
}
