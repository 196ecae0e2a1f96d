//! Every case below was run through Apache RocketMQ 5.5.0's own evaluator (`SelectorParser` of
//! rocketmq-filter, properties as strings as its broker passes them) and gives the same result
//! here, except where a comment says rmq refuses what Apache silently cuts short.

use super::eval::{eval, Properties};
use super::value::Value;
use super::*;

/// Apache's answer: T/F/N for true, false, null; E for an evaluation error (the message does
/// not match); C for an expression refused when compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    T,
    F,
    N,
    E,
    C,
}
use Want::*;

struct Map(Vec<(&'static str, &'static str)>);

impl Properties for Map {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

fn props(spec: &'static str) -> Map {
    Map(spec
        .split(';')
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| kv.split_once('='))
        .collect())
}

const CASES: &[(&str, &str, Want)] = &[
    ("a=10", "a > 5", T),
    ("a=10", "a > 50", F),
    ("a=2", "a between 0 and 3", T),
    ("a=2", "a BETWEEN 0 AND 3", T),
    ("a=abc", "a > 5", E),
    ("a=abc", "a = 'abc'", T),
    ("a=10", "a = 10", T),
    ("a=10", "a = '10'", T),
    ("a=10.5", "a > 10", E),
    ("a=10", "a > 9.5", T),
    ("", "a > 5", N),
    ("", "a = 'x'", N),
    ("", "a IS NULL", T),
    ("a=1", "a IS NOT NULL", T),
    ("", "NOT (a > 5)", N),
    ("", "a > 5 OR TRUE", T),
    ("", "a > 5 AND FALSE", F),
    ("", "a <> 'x'", N),
    ("a=y", "a <> 'x'", T),
    ("a=x", "a IN ('x','y')", T),
    ("a=z", "a NOT IN ('x','y')", T),
    ("", "a IN ('x','y')", N),
    ("", "a NOT IN ('x','y')", N),
    ("a=1", "a IN (1,2)", C),
    ("TAGS=TagA", "TAGS = 'TagA'", T),
    ("a=true", "a = TRUE", T),
    ("a=TRUE", "a = TRUE", T),
    ("a=1", "a > 'b'", C),
    ("a=10", "a >= 10 AND a <= 10", T),
    ("a=1", "a between 3 and 0", C),
    ("a=x", "a CONTAINS 'x'", T),
    ("a=xyz", "a STARTSWITH 'x'", T),
    ("a=xyz", "a ENDSWITH 'z'", T),
    ("a=5", "a NOT BETWEEN 1 AND 3", T),
    ("a=1", "(a = 1", C),
    ("a=1", "a == 1", C),
    ("a=1", "a = 'it''s'", F),
    ("a=it's", "a = 'it''s'", T),
    ("b.c=1", "b.c = 1", C),
    ("a=1", "TRUE", T),
    ("a=1", "a", F),
    ("a=0x10", "a = 16", E),
    ("a=-3", "a < -2", T),
    ("a=3", "a > -2", T),
    ("a=1e3", "a = 1000", E),
    ("a=1000", "a = 1e3", T),
    ("a=1000", "a > 1E2", T),
    ("a=10", "a > 5L", T),
    ("a=7", "a > 5.0", T),
    ("x=1", "NOT a = 1", N),
    ("x=1", "a IS NULL AND x = 1", T),
    ("a=1", "A = 1", N),
    ("a=1", "a = 1 and a = 1", T),
    ("a=1", "a = 1 AND NOT a = 2", F),
    ("a=9223372036854775808", "a > 1", E),
    ("a=1", "a > 9223372036854775807", F),
    ("a=1", "a > 99999999999999999999", C),
    ("a=3000000000", "a > 1", E),
    ("a=3000000000", "a > 1L", E),
    ("a=5", "a > 2.5", T),
    ("a=1.5", "a > 1.2", T),
    ("a=2", "a > b", N),
    ("a=2;b=1", "a > b", T),
    ("a=x;b=x", "a = b", T),
    ("a=x;b=1", "a > b", E),
    ("", "a CONTAINS 'x'", F),
    ("", "a NOT CONTAINS 'x'", F),
    ("a=abc", "a NOT CONTAINS 'x'", T),
    ("a=abc", "a NOT STARTSWITH 'x'", T),
    ("_a=1", "_a = 1", T),
    ("$a=1", "$a = 1", T),
    ("a1=1", "a1 = 1", T),
    ("a=1", "-a < 0", N),
    ("a=1", "a = NULL", C),
    ("a=1", "NULL", N),
    ("a=1", "a = 1 AND", C),
    ("a=1", "a IN ()", C),
    ("a=1", "a BETWEEN 'a' AND 'b'", C),
    ("a=1", "a IS NULL OR a = 1", T),
    ("a=1", "(a = 1) AND (TRUE)", T),
    ("a=1", "a=1", T),
    ("a=1", "a<>1", F),
    ("a=1", "a > 1.5e-1", T),
    ("a=1", "'x' = a", F),
    ("a=x", "'x' = a", T),
    ("a=1", "1 = a", T),
    ("a=1", "1 < a", F),
    ("a=2", "1 < a", T),
    ("a=true", "a", F),
    ("a=1", "a = 1 OR x > 'y'", C),
    ("a=abc", "a > 5 OR a = 'abc'", E),
    ("a=abc", "a = 'abc' OR a > 5", T),
    ("a=abc", "a = 'abc' AND a > 5", E),
    ("a=abc", "a <> 'abc' AND a > 5", F),
    ("a=1", "a = 1 AND a = 1 AND a = 1 OR a = 2", T),
    ("a=1", "a = -1", F),
    ("a=-1", "a = -1", T),
    ("a=1", "a > +1", F),
    ("a=1", "a = 1.0", T),
    ("a=1.0", "a = 1", E),
    ("a=1.0", "a = 1.0", T),
    ("a=true", "a = 'true'", T),
    ("a=1", "a = TRUE", F),
    ("a=x", "a NOT BETWEEN 1 AND 3", E),
    ("a=01", "a = 1", T),
    ("a= 1", "a = 1", E),
    ("a=1", "NOT NOT a = 1", F),
    ("a=1", "not a = 2", F),
    ("a=1", "a = 1 oR a = 2", T),
    ("a=1", "a > 1 = TRUE", F),
    ("a=9", "a between -1 and 10", T),
    ("a=1", "a = 'x' = TRUE", F),
    ("a=1", "TRUE = TRUE", T),
    ("a=1", "(a = 1)", T),
    ("a=1", "a in ('1')", T),
    ("a=1", "a = 1.", T),
    ("a=1", "a = .5", F),
    ("a=0.5", "a = .5", T),
    ("a=x", "a CONTAINS ''", F),
    ("a=x", "a NOT CONTAINS ''", F),
    ("", "a NOT STARTSWITH 'x'", F),
    ("a=1", "1", C),
    ("a=1", "-1 < a", T),
    ("a=1", "NOT a", T),
    ("a=1", "NOT TRUE", F),
    ("a=1", "a > NOW", N),
    ("a=1", "TRUE AND NULL", N),
    ("a=1", "FALSE OR NULL", N),
    ("a=1", "NULL AND FALSE", F),
    ("a=1", "1 = TRUE", F),
    ("a=1", "TRUE = 1", C),
    ("a=true", "TRUE = a", E),
    ("a=x", "a CONTAINS 'x' AND a = 'x'", T),
    // Apache evaluates only the part before the first token that cannot continue the
    // expression (these give false there); rmq refuses them.
    ("a=1", "a + 1 > 1", C),
    ("a=1", "a like '1'", C),
    ("a=16", "a = 0x10", C),
    ("a=16", "a = 020", C),
];

#[test]
fn every_case_answers_as_apache_does() {
    let mut wrong = Vec::new();
    for &(p, text, want) in CASES {
        let got = match parser::parse(text) {
            Err(_) => C,
            Ok(e) => match eval(&e, &props(p)) {
                Ok(Value::Bool(true)) => T,
                Ok(Value::Bool(false)) => F,
                Ok(Value::Null) => N,
                Ok(other) => panic!("{text}: not a condition: {other:?}"),
                Err(_) => E,
            },
        };
        if got != want {
            wrong.push(format!("{p:?} {text:?}: want {want:?}, got {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cases differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn errors_name_the_column_and_the_problem() {
    let e = compile("a > 5 AND b = ").unwrap_err();
    assert_eq!(e.column, 15, "{e}");
    assert!(e.to_string().contains("end of the expression"), "{e}");
    let e = compile("a = 1 LIKE 'x'").unwrap_err();
    assert_eq!(e.column, 7, "{e}");
    let e = compile("color = 'red").unwrap_err();
    assert!(e.to_string().contains("not closed"), "{e}");
    let e = compile("a = NULL").unwrap_err();
    assert!(e.to_string().contains("IS NULL"), "{e}");
    let e = compile("price BETWEEN 10 AND 1").unwrap_err();
    assert!(e.to_string().contains("lower bound"), "{e}");
    let e = compile("a ? 1").unwrap_err();
    assert_eq!(e.column, 3, "{e}");
}

#[test]
fn comments_and_blanks_are_skipped() {
    let f = compile("/* price */ price > 10 -- cheap ones out\n AND\tregion = 'eu'").unwrap();
    assert!(f.matches_properties("price\u{1}12\u{2}region\u{1}eu\u{2}"));
    assert!(!f.matches_properties("price\u{1}8\u{2}region\u{1}eu\u{2}"));
}

#[test]
fn encoded_properties_read_as_java_reads_them() {
    let f = compile("a = 'second'").unwrap();
    // The last of a repeated name counts; an empty value is no value.
    assert!(f.matches_properties("a\u{1}first\u{2}a\u{1}second\u{2}"));
    let f = compile("a IS NULL").unwrap();
    assert!(f.matches_properties("a\u{1}\u{2}b\u{1}x\u{2}"));
    assert!(f.matches_properties(""));
}

#[test]
fn arbitrary_text_never_panics() {
    let samples = [
        "",
        "(",
        ")",
        "((((",
        "'",
        "''",
        "--",
        "/*",
        "NOT",
        "a NOT",
        "a BETWEEN",
        "a IN (",
        "a IN ('x',",
        "-",
        "- - - 1",
        "1.e",
        ".",
        "a > 1e999",
        "a = 99999999999999999999L",
        "é = 'ü'",
        "a = '\u{0}'",
        "NOT NOT NOT",
        "a IS",
        "a IS NOT",
        "a CONTAINS",
    ];
    for s in samples {
        if let Ok(f) = compile(s) {
            let _ = f.matches_properties("a\u{1}1\u{2}");
        }
    }
    let nested = |n: usize| format!("{}a = 1{}", "(".repeat(n), ")".repeat(n));
    assert!(compile(&nested(50)).is_ok());
    let e = compile(&nested(100_000)).unwrap_err();
    assert!(e.to_string().contains("nested more than"), "{e}");
    let e = compile(&"NOT ".repeat(100_000)).unwrap_err();
    assert!(e.to_string().contains("nested more than"), "{e}");
    let chain = vec!["a = 1"; 100_000].join(" AND ");
    let e = compile(&chain).unwrap_err();
    assert!(e.to_string().contains("operators"), "{e}");
    assert!(compile(&vec!["a = 1"; 200].join(" OR ")).is_ok());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

    /// Any text a client can send, made of the language's own pieces or of anything at all:
    /// compiling and evaluating it answers, never panics.
    #[test]
    fn any_expression_answers(
        pieces in proptest::collection::vec(
            proptest::sample::select(vec![
                "a", "b", "TAGS", "=", "<>", ">", ">=", "<", "<=", "(", ")", ",", "+", "-",
                "NOT", "AND", "OR", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE", "CONTAINS",
                "STARTSWITH", "ENDSWITH", "1", "0", "2147483648", "1.5", ".5", "1e3", "'x'",
                "''", "'", "--", "/*", "*/", "\n", "5L", "é", "?",
            ]),
            0..24,
        ),
        noise in ".{0,40}",
        a in ".{0,8}",
    ) {
        let text = pieces.join(" ");
        let props = format!("a\u{1}{a}\u{2}b\u{1}2\u{2}TAGS\u{1}x\u{2}");
        for t in [text.as_str(), noise.as_str()] {
            if let Ok(f) = compile(t) {
                let _ = f.matches_properties(&props);
            }
        }
    }
}
