//! Apache's SQL92 selector grammar, by recursive descent, with the checks Apache makes while it
//! builds the expression (`ComparisonExpression`): `NULL` cannot be compared with `=`, only
//! numbers with `>`/`<`, a `BETWEEN` with constant bounds needs the lower one first, `IN` takes
//! a property and string literals, and the whole must be a boolean. Precedence, loosest first:
//! `OR`; `AND`; `=`, `<>`, `IS [NOT] NULL`; `>`, `>=`, `<`, `<=`, `[NOT] BETWEEN`, `[NOT] IN`,
//! `[NOT] CONTAINS|STARTSWITH|ENDSWITH`; unary `+`, `-`, `NOT`. So, as in Apache, `NOT a = 1`
//! reads `(NOT a) = 1`: write `NOT (a = 1)`.
//!
//! One difference: Apache stops at the first token that cannot continue the expression and
//! ignores the rest (`a = 1 LIKE 'x'` selects `a = 1`); rmq refuses such an expression.

use super::lexer::{tokenize, Kind, Token};
use super::value::{compare_java, Value};
use super::Sql92Error;

/// A literal of the expression.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Literal {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    Str(String),
}

impl Literal {
    pub fn value(&self) -> Value<'_> {
        match self {
            Literal::Null => Value::Null,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Int(i) => Value::Int(*i),
            Literal::Long(l) => Value::Long(*l),
            Literal::Double(d) => Value::Double(*d),
            Literal::Str(s) => Value::Str(s),
        }
    }

    fn describe(&self) -> String {
        match self {
            Literal::Null => "NULL".into(),
            Literal::Bool(b) => b.to_string().to_uppercase(),
            Literal::Int(i) => i.to_string(),
            Literal::Long(l) => l.to_string(),
            Literal::Double(d) => d.to_string(),
            Literal::Str(s) => format!("'{s}'"),
        }
    }
}

/// `>`, `>=`, `<`, `<=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    Gt,
    Ge,
    Lt,
    Le,
}

/// `CONTAINS`, `STARTSWITH`, `ENDSWITH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Lit(Literal),
    Prop(String),
    Negate(Box<Expr>),
    /// A property used where a boolean is expected: true only if it holds a boolean true,
    /// which a message property (a string) never does.
    BoolCast(Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Equal(Box<Expr>, Box<Expr>),
    Compare(Order, Box<Expr>, Box<Expr>),
    In {
        prop: String,
        values: Vec<String>,
        negated: bool,
    },
    Text {
        op: TextOp,
        negated: bool,
        left: Box<Expr>,
        literal: String,
    },
}

impl Expr {
    /// Apache's `BooleanExpression`: what yields true, false or null.
    fn is_boolean(&self) -> bool {
        !matches!(
            self,
            Expr::Prop(_)
                | Expr::Negate(_)
                | Expr::Lit(
                    Literal::Int(_) | Literal::Long(_) | Literal::Double(_) | Literal::Str(_)
                )
        )
    }
}

/// Parses and checks a selector.
pub(super) fn parse(text: &str) -> Result<Expr, Sql92Error> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        operators: 0,
        nesting: 0,
    };
    let start = p.column();
    let e = p.or()?;
    let rest = p.peek();
    if rest.kind != Kind::End {
        return Err(Sql92Error::new(
            rest.column,
            format!(
                "unexpected {} after a complete expression",
                rest.kind.describe()
            ),
        ));
    }
    as_boolean(e, start)
}

/// Bounds that keep parsing, evaluating and dropping an expression well within a thread's
/// stack, whatever a client sends: operators in all, and nesting of parentheses and unary
/// operators.
const MAX_OPERATORS: usize = 500;
const MAX_NESTING: usize = 100;

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    operators: usize,
    nesting: usize,
}

/// Where a boolean is expected: a property is cast, anything else that is not boolean refused.
fn as_boolean(e: Expr, column: usize) -> Result<Expr, Sql92Error> {
    match e {
        Expr::Prop(_) => Ok(Expr::BoolCast(Box::new(e))),
        e if e.is_boolean() => Ok(e),
        e => Err(Sql92Error::new(
            column,
            format!("{} is not a condition (true or false)", describe(&e)),
        )),
    }
}

fn describe(e: &Expr) -> String {
    match e {
        Expr::Lit(l) => l.describe(),
        Expr::Prop(p) => p.clone(),
        Expr::Negate(e) => format!("-{}", describe(e)),
        _ => "the condition".into(),
    }
}

/// `=`/`<>` operands: the NULL literal cannot be compared (use IS NULL), nor a boolean literal
/// with another kind of literal.
fn check_equal(l: &Expr, r: &Expr, column: usize) -> Result<(), Sql92Error> {
    for e in [l, r] {
        if matches!(e, Expr::Lit(Literal::Null)) {
            return Err(Sql92Error::new(
                column,
                "NULL cannot be compared with = or <>; use IS NULL or IS NOT NULL",
            ));
        }
    }
    if let (Expr::Lit(Literal::Bool(_)), Expr::Lit(other)) = (l, r) {
        if !matches!(other, Literal::Bool(_)) {
            return Err(Sql92Error::new(
                column,
                format!("{} cannot be compared with {}", describe(l), describe(r)),
            ));
        }
    }
    Ok(())
}

/// `>`/`<` operands: literals must be numbers, and a condition cannot be ordered.
fn check_order(e: &Expr, column: usize) -> Result<(), Sql92Error> {
    let ok = match e {
        Expr::Lit(l) => matches!(l, Literal::Int(_) | Literal::Long(_) | Literal::Double(_)),
        e => !e.is_boolean(),
    };
    match ok {
        true => Ok(()),
        false => Err(Sql92Error::new(
            column,
            format!(
                "{} cannot be compared with >, >=, < or <= (only numbers can)",
                describe(e)
            ),
        )),
    }
}

fn order(op: Order, l: Expr, r: Expr, column: usize) -> Result<Expr, Sql92Error> {
    check_order(&l, column)?;
    check_order(&r, column)?;
    Ok(Expr::Compare(op, Box::new(l), Box::new(r)))
}

fn between(value: Expr, low: Expr, high: Expr, column: usize) -> Result<Expr, Sql92Error> {
    if let (Expr::Lit(lo), Expr::Lit(hi)) = (&low, &high) {
        if matches!(lo, Literal::Null) || matches!(hi, Literal::Null) {
            return Err(Sql92Error::new(
                column,
                "the bounds of BETWEEN cannot be NULL",
            ));
        }
        match compare_java(&hi.value(), &lo.value()) {
            Ok(o) if o.is_lt() => {
                return Err(Sql92Error::new(
                    column,
                    format!(
                        "BETWEEN {} AND {}: the lower bound must come first",
                        lo.describe(),
                        hi.describe()
                    ),
                ))
            }
            Ok(_) => {}
            Err(e) => return Err(Sql92Error::new(column, e.to_string())),
        }
    }
    let ge = order(Order::Ge, value.clone(), low, column)?;
    let le = order(Order::Le, value, high, column)?;
    Ok(Expr::And(Box::new(ge), Box::new(le)))
}

impl Parser {
    /// Counts one more operator.
    fn operator(&mut self, column: usize) -> Result<(), Sql92Error> {
        self.operators += 1;
        match self.operators > MAX_OPERATORS {
            true => Err(Sql92Error::new(
                column,
                format!("more than {MAX_OPERATORS} operators in one expression"),
            )),
            false => Ok(()),
        }
    }

    /// Parses what `f` does one level of nesting deeper.
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, Sql92Error>,
    ) -> Result<T, Sql92Error> {
        if self.nesting >= MAX_NESTING {
            return Err(Sql92Error::new(
                self.column(),
                format!("nested more than {MAX_NESTING} levels deep"),
            ));
        }
        self.nesting += 1;
        let r = f(self);
        self.nesting -= 1;
        r
    }

    fn peek(&self) -> &Token {
        // The token list always ends with End, and pos never passes it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Kind {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].kind
    }

    fn column(&self) -> usize {
        self.peek().column
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if t.kind != Kind::End {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, kind: &Kind) -> bool {
        if self.peek().kind == *kind {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: Kind, what: &str) -> Result<(), Sql92Error> {
        let t = self.peek();
        if t.kind == kind {
            self.pos += 1;
            return Ok(());
        }
        Err(Sql92Error::new(
            t.column,
            format!("expected {what}, found {}", t.kind.describe()),
        ))
    }

    fn or(&mut self) -> Result<Expr, Sql92Error> {
        let column = self.column();
        let mut left = self.and()?;
        while self.eat(&Kind::Or) {
            let rc = self.column();
            self.operator(rc)?;
            let right = self.and()?;
            left = Expr::Or(
                Box::new(as_boolean(left, column)?),
                Box::new(as_boolean(right, rc)?),
            );
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, Sql92Error> {
        let column = self.column();
        let mut left = self.equality()?;
        while self.eat(&Kind::And) {
            let rc = self.column();
            self.operator(rc)?;
            let right = self.equality()?;
            left = Expr::And(
                Box::new(as_boolean(left, column)?),
                Box::new(as_boolean(right, rc)?),
            );
        }
        Ok(left)
    }

    fn equality(&mut self) -> Result<Expr, Sql92Error> {
        let mut left = self.comparison()?;
        loop {
            let column = self.column();
            if matches!(self.peek().kind, Kind::Eq | Kind::Ne | Kind::Is) {
                self.operator(column)?;
            }
            match self.peek().kind {
                Kind::Eq | Kind::Ne => {
                    let negated = self.next().kind == Kind::Ne;
                    let right = self.comparison()?;
                    check_equal(&left, &right, column)?;
                    let eq = Expr::Equal(Box::new(left), Box::new(right));
                    left = if negated { Expr::Not(Box::new(eq)) } else { eq };
                }
                Kind::Is => {
                    self.next();
                    let negated = self.eat(&Kind::Not);
                    self.expect(Kind::Null, "NULL after IS")?;
                    let eq = Expr::Equal(Box::new(left), Box::new(Expr::Lit(Literal::Null)));
                    left = if negated { Expr::Not(Box::new(eq)) } else { eq };
                }
                _ => return Ok(left),
            }
        }
    }

    fn comparison(&mut self) -> Result<Expr, Sql92Error> {
        let mut left = self.unary()?;
        loop {
            let column = self.column();
            let negated = self.peek().kind == Kind::Not
                && matches!(
                    self.peek_at(1),
                    Kind::Between | Kind::In | Kind::Contains | Kind::StartsWith | Kind::EndsWith
                );
            if negated {
                self.next();
            }
            if !matches!(
                self.peek().kind,
                Kind::Gt
                    | Kind::Ge
                    | Kind::Lt
                    | Kind::Le
                    | Kind::Between
                    | Kind::In
                    | Kind::Contains
                    | Kind::StartsWith
                    | Kind::EndsWith
            ) {
                return Ok(left);
            }
            self.operator(column)?;
            let op = match self.peek().kind {
                Kind::Gt if !negated => Order::Gt,
                Kind::Ge if !negated => Order::Ge,
                Kind::Lt if !negated => Order::Lt,
                Kind::Le if !negated => Order::Le,
                Kind::Between => {
                    self.next();
                    let low = self.unary()?;
                    self.expect(Kind::And, "AND between the bounds of BETWEEN")?;
                    let high = self.unary()?;
                    left = if negated {
                        let lt = order(Order::Lt, left.clone(), low, column)?;
                        let gt = order(Order::Gt, left, high, column)?;
                        Expr::Or(Box::new(lt), Box::new(gt))
                    } else {
                        between(left, low, high, column)?
                    };
                    continue;
                }
                Kind::In => {
                    self.next();
                    let Expr::Prop(prop) = left else {
                        return Err(Sql92Error::new(
                            column,
                            format!("IN needs a property on its left, not {}", describe(&left)),
                        ));
                    };
                    left = Expr::In {
                        prop,
                        values: self.string_list()?,
                        negated,
                    };
                    continue;
                }
                Kind::Contains | Kind::StartsWith | Kind::EndsWith => {
                    let op = match self.next().kind {
                        Kind::Contains => TextOp::Contains,
                        Kind::StartsWith => TextOp::StartsWith,
                        _ => TextOp::EndsWith,
                    };
                    let literal = self.string("a string literal")?;
                    left = Expr::Text {
                        op,
                        negated,
                        left: Box::new(left),
                        literal,
                    };
                    continue;
                }
                _ => return Ok(left),
            };
            self.next();
            let right = self.unary()?;
            left = order(op, left, right, column)?;
        }
    }

    fn string(&mut self, what: &str) -> Result<String, Sql92Error> {
        let t = self.next();
        match t.kind {
            Kind::Str(s) => Ok(s),
            other => Err(Sql92Error::new(
                t.column,
                format!("expected {what}, found {}", other.describe()),
            )),
        }
    }

    fn string_list(&mut self) -> Result<Vec<String>, Sql92Error> {
        self.expect(Kind::LParen, "( after IN")?;
        let mut values = vec![self.string("a string literal in the IN list")?];
        while self.eat(&Kind::Comma) {
            values.push(self.string("a string literal in the IN list")?);
        }
        self.expect(Kind::RParen, ") closing the IN list")?;
        Ok(values)
    }

    fn unary(&mut self) -> Result<Expr, Sql92Error> {
        match self.peek().kind {
            Kind::Plus => {
                self.next();
                self.nested(Self::unary)
            }
            Kind::Minus => {
                self.next();
                Ok(Expr::Negate(Box::new(self.nested(Self::unary)?)))
            }
            Kind::Not => {
                self.next();
                let operand_column = self.column();
                let operand = self.nested(Self::unary)?;
                Ok(Expr::Not(Box::new(as_boolean(operand, operand_column)?)))
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, Sql92Error> {
        let t = self.next();
        let lit = |l| Ok(Expr::Lit(l));
        match t.kind {
            Kind::Str(s) => lit(Literal::Str(s)),
            Kind::True => lit(Literal::Bool(true)),
            Kind::False => lit(Literal::Bool(false)),
            Kind::Null => lit(Literal::Null),
            Kind::Decimal(d) => match d.parse::<i64>() {
                Ok(v) => lit(i32::try_from(v).map_or(Literal::Long(v), Literal::Int)),
                Err(_) => Err(Sql92Error::new(
                    t.column,
                    format!("{d} is out of range (a whole number must fit in 64 bits)"),
                )),
            },
            Kind::Float(f) => match parse_float_literal(&f) {
                Some(v) => lit(Literal::Double(v)),
                None => Err(Sql92Error::new(t.column, format!("{f} is not a number"))),
            },
            Kind::Id(name) => Ok(Expr::Prop(name)),
            Kind::LParen => {
                let inner = self.nested(Self::or)?;
                self.expect(Kind::RParen, ")")?;
                Ok(inner)
            }
            other => Err(Sql92Error::new(
                t.column,
                format!(
                    "expected a property, a literal or (, found {}",
                    other.describe()
                ),
            )),
        }
    }
}

/// `5.5`, `5.`, `.5`, `5E10`, `5.E10` as Java's `Double.valueOf` reads them.
fn parse_float_literal(text: &str) -> Option<f64> {
    let mut t = text.to_ascii_lowercase();
    if t.starts_with('.') {
        t.insert(0, '0');
    }
    if let Some(i) = t.find(".e") {
        t.insert(i + 1, '0');
    }
    if t.ends_with('.') {
        t.push('0');
    }
    t.parse().ok()
}
