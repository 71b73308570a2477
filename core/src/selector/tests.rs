use std::borrow::Cow;

use super::parser::MAX_DEPTH;
use super::{Error, Filterable, HeaderField, Operand, Selector, SelectorCache, MAX_SELECTOR_BYTES};

/// A message made of literal headers and properties.
#[derive(Default)]
struct MockMessage {
    headers: Vec<(HeaderField, Operand<'static>)>,
    properties: Vec<(&'static str, Operand<'static>)>,
}

impl MockMessage {
    fn header(mut self, field: HeaderField, value: Operand<'static>) -> MockMessage {
        self.headers.push((field, value));
        self
    }

    fn prop(mut self, name: &'static str, value: Operand<'static>) -> MockMessage {
        self.properties.push((name, value));
        self
    }
}

impl Filterable for MockMessage {
    fn header(&self, field: HeaderField) -> Option<Operand<'_>> {
        self.headers.iter().find(|(f, _)| *f == field).map(|(_, v)| v.clone())
    }

    fn property(&self, name: &str) -> Option<Operand<'_>> {
        self.properties.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }
}

/// A message on which every header and every property has the same value, for poking
/// evaluation with types the selector did not expect.
struct Uniform(Operand<'static>);

impl Filterable for Uniform {
    fn header(&self, _: HeaderField) -> Option<Operand<'_>> {
        Some(self.0.clone())
    }

    fn property(&self, _: &str) -> Option<Operand<'_>> {
        Some(self.0.clone())
    }
}

fn string(s: &'static str) -> Operand<'static> {
    Operand::Str(Cow::Borrowed(s))
}

fn long(v: i64) -> Operand<'static> {
    Operand::Long(v)
}

fn double(v: f64) -> Operand<'static> {
    Operand::Double(v)
}

fn boolean(v: bool) -> Operand<'static> {
    Operand::Bool(v)
}

/// The message most cases run against. `missing` (and any name not listed) is absent;
/// there is no JMSCorrelationID.
fn standard() -> MockMessage {
    MockMessage::default()
        .header(HeaderField::DeliveryMode, string("PERSISTENT"))
        .header(HeaderField::Priority, long(4))
        .header(HeaderField::MessageId, string("ID:abc-1"))
        .header(HeaderField::Timestamp, long(1_700_000_000_000))
        .header(HeaderField::Type, string("order"))
        .prop("color", string("red"))
        .prop("weight", long(3000))
        .prop("price", double(12.5))
        .prop("half", double(0.5))
        .prop("ten", long(10))
        .prop("zero", long(0))
        .prop("flag", boolean(true))
        .prop("off", boolean(false))
        .prop("region", string("EU"))
        .prop("name", string("order-17"))
        .prop("big", long(i64::MAX))
        .prop("small", long(i64::MIN))
        .prop("nan", double(f64::NAN))
        .prop("five_str", string("5"))
        .prop("special", string("a.b*c[d]^e$f(g)+h?i\\j|k{l}"))
        .prop("pct", string("100%"))
        .prop("under", string("a_b"))
        .prop("axb", string("axb"))
        .prop("esc", string("a!b"))
        .prop("empty", string(""))
        .prop("unicode", string("héllo"))
        .prop("quote", string("it's"))
        .prop("JMSXDeliveryCount", long(2))
        .prop("JMSXGroupID", string("g1"))
        // Same names as headers: a selector must read the headers, never these.
        .prop("JMSPriority", long(9))
        .prop("JMSType", string("fake"))
}

/// A message with a correlation ID, sent non-persistent and without a type.
fn correlated() -> MockMessage {
    MockMessage::default()
        .header(HeaderField::DeliveryMode, string("NON_PERSISTENT"))
        .header(HeaderField::Priority, long(0))
        .header(HeaderField::MessageId, string("ID:abc-2"))
        .header(HeaderField::Timestamp, long(0))
        .header(HeaderField::CorrelationId, string("c-42"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// TRUE
    T,
    /// FALSE
    F,
    /// UNKNOWN
    U,
    /// Does not parse.
    Invalid,
}

use Expect::{Invalid, F, T, U};

/// Evaluated against [`standard`].
const CASES: &[(&str, Expect)] = &[
    // --- Literals --------------------------------------------------------------------
    ("TRUE", T),
    ("FALSE", F),
    ("true", T),
    ("fAlSe", F),
    ("color = 'red'", T),
    ("'red' = color", T),
    ("quote = 'it''s'", T),
    ("color = 'it''s'", F),
    ("'a''b' = 'a''b'", T),
    ("empty = ''", T),
    ("unicode = 'héllo'", T),
    ("weight = 3000", T),
    ("zero = -0", T),
    ("small = -9223372036854775808", T),
    ("big = 9223372036854775807", T),
    ("big = +9223372036854775807", T),
    ("price = 12.5", T),
    ("price = 1.25E1", T),
    ("price = 125e-1", T),
    ("price = 0.125e+2", T),
    ("half = .5", T),
    ("half = 5e-1", T),
    ("ten = 10.", T),
    ("weight = 3E3", T),
    ("weight = 3000.0", T),
    ("weight = -57.9E2 + 8790", T),
    ("price = 12.500", T),
    ("half = 1e-3", F),
    ("ten = 1.e1", T),
    ("weight = 3.E3", T),
    ("ten = 1E+1", T),
    ("ten = 0010", T),
    // --- Identifiers -----------------------------------------------------------------
    ("Color = 'red'", U),
    ("COLOR = 'red'", U),
    ("$dollar IS NULL", T),
    ("_under IS NULL", T),
    ("a1_$b IS NULL", T),
    ("größe IS NULL", T),
    ("JMSXDeliveryCount = 2", T),
    ("JMSXDeliveryCount > 1", T),
    ("JMSXGroupID = 'g1'", T),
    // Not headers in the spec: ordinary properties, absent here.
    ("JMSExpiration = 0", U),
    ("JMSRedelivered = FALSE", U),
    ("JMSDestination IS NULL", T),
    // Header names are case-sensitive; other spellings are properties.
    ("jmspriority = 4", U),
    ("JMSPRIORITY = 4", U),
    // --- Headers ---------------------------------------------------------------------
    ("JMSDeliveryMode = 'PERSISTENT'", T),
    ("JMSDeliveryMode = 'NON_PERSISTENT'", F),
    ("JMSDeliveryMode IN ('PERSISTENT')", T),
    ("JMSPriority = 4", T),
    ("JMSPriority = 9", F),
    ("JMSPriority > 3", T),
    ("JMSPriority BETWEEN 0 AND 4", T),
    ("JMSMessageID = 'ID:abc-1'", T),
    ("JMSMessageID LIKE 'ID:%'", T),
    ("JMSTimestamp = 1700000000000", T),
    ("JMSTimestamp > 1600000000000", T),
    ("JMSType = 'order'", T),
    ("JMSType = 'fake'", F),
    ("JMSType IN ('order', 'invoice')", T),
    ("JMSCorrelationID = 'c-42'", U),
    ("JMSCorrelationID IS NULL", T),
    ("JMSCorrelationID IS NOT NULL", F),
    // --- Numeric comparisons ---------------------------------------------------------
    ("weight = 2999", F),
    ("weight <> 3000", F),
    ("weight <> 1", T),
    ("weight > 2500", T),
    ("weight > 3000", F),
    ("weight >= 3000", T),
    ("weight >= 3001", F),
    ("weight < 3000", F),
    ("weight < 3001", T),
    ("weight <= 3000", T),
    ("weight <= 2999", F),
    ("1 < 2", T),
    ("2 < 1", F),
    ("1 = 1", T),
    // Promotion of long to double.
    ("weight > 2999.5", T),
    ("weight < 3000.5", T),
    ("price > 12", T),
    ("price < 13", T),
    ("price = 12", F),
    ("half < 1", T),
    ("1 < half", F),
    ("1 < 2.5", T),
    ("big > 9.2E18", T),
    ("ten = 10.0", T),
    ("ten <> 10.0", F),
    // NaN is unequal to everything, itself included.
    ("nan = nan", F),
    ("nan <> nan", T),
    ("nan < 1", F),
    ("nan > 1", F),
    ("nan = 0", F),
    // --- String and boolean comparisons ----------------------------------------------
    ("color <> 'red'", F),
    ("color <> 'blue'", T),
    ("color = 'RED'", F),
    ("color = 'red '", F),
    ("region = color", F),
    ("'a' = 'a'", T),
    ("'a' <> 'b'", T),
    ("flag = TRUE", T),
    ("flag = true", T),
    ("flag <> FALSE", T),
    ("off = FALSE", T),
    ("flag = off", F),
    ("flag <> off", T),
    ("TRUE = TRUE", T),
    ("TRUE <> FALSE", T),
    // Ordering strings or booleans is FALSE when an identifier hides the type.
    ("color > 'a'", F),
    ("color <= 'red'", F),
    ("flag > off", F),
    ("flag >= TRUE", F),
    // --- Unlike types: FALSE, whatever the operator; no conversions ------------------
    ("five_str = 5", F),
    ("five_str <> 5", F),
    ("NOT (five_str = 5)", T),
    ("weight = '3000'", F),
    ("flag = 1", F),
    ("color = TRUE", F),
    ("weight > 'a'", F),
    ("price = FALSE", F),
    // --- Missing properties: NULL ----------------------------------------------------
    ("missing = 1", U),
    ("missing <> 1", U),
    ("missing = 'a'", U),
    ("missing > 1", U),
    ("1 < missing", U),
    ("missing = missing", U),
    ("NOT missing = 1", U),
    ("missing = TRUE", U),
    ("missing IS NULL", T),
    ("missing IS NOT NULL", F),
    ("NOT missing IS NULL", F),
    ("color IS NULL", F),
    ("color IS NOT NULL", T),
    ("off IS NOT NULL", T),
    // --- Arithmetic ------------------------------------------------------------------
    ("weight + 1 = 3001", T),
    ("weight - 1000 = 2000", T),
    ("weight * 2 = 6000", T),
    ("weight / 7 = 428", T),
    ("weight / 7.0 > 428.5", T),
    ("7 / 2 = 3", T),
    ("7 / 2.0 = 3.5", T),
    ("-7 / 2 = -3", T),
    ("2 + 3 * 4 = 14", T),
    ("(2 + 3) * 4 = 20", T),
    ("10 - 2 - 3 = 5", T),
    ("100 / 10 / 5 = 2", T),
    ("-2 * -3 = 6", T),
    ("- - 3 = 3", T),
    ("- -3 = 3", T),
    ("+weight = 3000", T),
    ("-weight = -3000", T),
    ("-(weight) = -3000", T),
    ("weight * price = 37500", T),
    ("ten + half = 10.5", T),
    ("1 + 1 = 2", T),
    ("weight + JMSXDeliveryCount = 3002", T),
    // Division by zero: long is UNKNOWN, double follows IEEE.
    ("weight / 0 = 0", U),
    ("weight / zero > 0", U),
    ("weight / 0.0 > 1E308", T),
    ("-weight / 0.0 < -1E308", T),
    ("zero / 0.0 = 0", F),
    ("zero / 0.0 <> zero / 0.0", T),
    // Long overflow is UNKNOWN; with a double operand it is double arithmetic.
    ("big + 1 > 0", U),
    ("big + 1 < 0", U),
    ("small - 1 < 0", U),
    ("big * 2 > 0", U),
    ("-small > 0", U),
    ("small / -1 > 0", U),
    ("- -9223372036854775808 > 0", U),
    ("big + 1.0 > 0", T),
    ("big - 1 = 9223372036854775806", T),
    // Arithmetic on what is not a number is UNKNOWN.
    ("color + 1 = 1", U),
    ("flag * 2 = 2", U),
    ("five_str + 0 = 5", U),
    ("-color = 0", U),
    ("+color = 0", U),
    ("+flag = 1", U),
    ("missing + 1 = 1", U),
    ("1 - missing = 1", U),
    // --- BETWEEN, inclusive at both ends ---------------------------------------------
    ("weight BETWEEN 2000 AND 4000", T),
    ("weight BETWEEN 3000 AND 3000", T),
    ("weight BETWEEN 3000 AND 4000", T),
    ("weight BETWEEN 1000 AND 3000", T),
    ("weight BETWEEN 3001 AND 4000", F),
    ("weight BETWEEN 1000 AND 2999", F),
    ("weight BETWEEN 4000 AND 2000", F),
    ("weight NOT BETWEEN 2000 AND 4000", F),
    ("weight NOT BETWEEN 3001 AND 4000", T),
    ("weight NOT BETWEEN 3000 AND 3000", F),
    ("price BETWEEN 12 AND 13", T),
    ("price BETWEEN 12.5 AND 12.5", T),
    ("weight BETWEEN 2999.5 AND 3000.5", T),
    ("weight BETWEEN 1 + 1 AND 2 * 2000", T),
    ("weight BETWEEN 2000 AND 4000 AND flag", T),
    ("weight BETWEEN -1 AND -1 OR flag", T),
    ("weight - 3000 BETWEEN -1 AND 1", T),
    ("missing BETWEEN 1 AND 2", U),
    ("missing NOT BETWEEN 1 AND 2", U),
    // `a <= v AND v <= b`: a NULL bound is UNKNOWN unless the other bound fails.
    ("weight BETWEEN missing AND 4000", U),
    ("weight BETWEEN 1 AND missing", U),
    ("weight BETWEEN missing AND 2000", F),
    ("weight NOT BETWEEN missing AND 2000", T),
    ("weight NOT BETWEEN 4000 AND missing", T),
    ("color BETWEEN 1 AND 2", F),
    ("nan BETWEEN 0 AND 1", F),
    // --- IN --------------------------------------------------------------------------
    ("region IN ('EU', 'US')", T),
    ("region IN ('US')", F),
    ("region IN ('eu')", F),
    ("region IN ('EU', 'EU')", T),
    ("region NOT IN ('EU', 'US')", F),
    ("region NOT IN ('US', 'APAC')", T),
    ("NOT region IN ('EU')", F),
    ("quote IN ('it''s')", T),
    ("empty IN ('')", T),
    ("region IN ('AA','AB','AC','AD','AE','AF','AG','AH','AI','AJ','EU','ZZ')", T),
    ("region IN ('AA','AB','AC','AD','AE','AF','AG','AH','AI','AJ','ZZ')", F),
    ("region NOT IN ('AA','AB','AC','AD','AE','AF','AG','AH','AI','AJ','ZZ')", T),
    ("JMSXGroupID IN ('g1', 'g2')", T),
    ("missing IN ('EU')", U),
    ("missing NOT IN ('EU')", U),
    // Not a string: neither IN nor NOT IN selects it.
    ("weight IN ('3000')", U),
    ("weight NOT IN ('3000')", U),
    ("flag NOT IN ('TRUE')", U),
    // --- LIKE ------------------------------------------------------------------------
    ("name LIKE 'ord%'", T),
    ("name LIKE 'order-__'", T),
    ("name LIKE 'order-_'", F),
    ("name LIKE 'order-___'", F),
    ("name LIKE '%17'", T),
    ("name LIKE '%der%'", T),
    ("name LIKE '%x%'", F),
    ("name LIKE 'order-17'", T),
    ("name LIKE 'ORDER%'", F),
    ("name LIKE '_rder%7'", T),
    ("name LIKE 'o%r%1%'", T),
    ("name LIKE 'o%r%1%8'", F),
    ("name LIKE '%%'", T),
    ("name LIKE '%'", T),
    ("empty LIKE '%'", T),
    ("empty LIKE '_'", F),
    ("empty LIKE ''", T),
    ("name LIKE ''", F),
    ("name LIKE '_%_'", T),
    ("name NOT LIKE 'ord%'", F),
    ("name NOT LIKE 'inv%'", T),
    ("unicode LIKE 'h_llo'", T),
    ("unicode LIKE 'h__llo'", F),
    ("unicode LIKE '%é%'", T),
    // Escapes.
    ("pct LIKE '100!%' ESCAPE '!'", T),
    ("pct LIKE '100\\%' ESCAPE '\\'", T),
    ("pct LIKE '%!%' ESCAPE '!'", T),
    ("name LIKE '%!%' ESCAPE '!'", F),
    ("name LIKE 'order!%' ESCAPE '!'", F),
    ("under LIKE 'a\\_b' ESCAPE '\\'", T),
    ("axb LIKE 'a\\_b' ESCAPE '\\'", F),
    ("axb LIKE 'a_b'", T),
    ("esc LIKE 'a!!b' ESCAPE '!'", T),
    ("esc LIKE 'a!b'", T),
    ("under LIKE 'a__b' ESCAPE '_'", T),
    // Regex specials are literal.
    ("axb LIKE 'a.b'", F),
    ("axb LIKE 'ax*b'", F),
    ("axb LIKE 'a[x]b'", F),
    ("axb LIKE '^axb$'", F),
    ("axb LIKE 'a(x)b'", F),
    ("axb LIKE 'ax+b'", F),
    ("axb LIKE 'ax?b'", F),
    ("axb LIKE 'a|b'", F),
    ("axb LIKE 'a.*'", F),
    ("special LIKE 'a.b*c[d]^e$f(g)+h?i\\j|k{l}'", T),
    ("special LIKE 'a.b%'", T),
    ("special LIKE '%[d]^e$%'", T),
    ("special LIKE '%\\j|k{l}'", T),
    ("special LIKE 'a_b_c%'", T),
    // Not a string, or missing: UNKNOWN either way.
    ("weight LIKE '3%'", U),
    ("weight NOT LIKE '3%'", U),
    ("flag LIKE 't%'", U),
    ("missing LIKE 'a%'", U),
    ("missing NOT LIKE 'a%'", U),
    // --- Keywords are case-insensitive -----------------------------------------------
    ("color = 'red' and weight > 1", T),
    ("color = 'blue' Or flag", T),
    ("NoT off", T),
    ("weight between 1 and 5000", T),
    ("name like 'o%'", T),
    ("region in ('EU')", T),
    ("missing is null", T),
    ("missing IS not NULL", F),
    ("pct like '100!%' escape '!'", T),
    // --- Boolean identifiers as conditions -------------------------------------------
    ("flag", T),
    ("off", F),
    ("NOT flag", F),
    ("NOT off", T),
    ("(flag)", T),
    // Not a boolean, or missing: UNKNOWN.
    ("color", U),
    ("NOT color", U),
    ("weight", U),
    ("missing", U),
    ("NOT missing", U),
    ("flag AND color", U),
    ("off AND color", F),
    ("flag OR color", T),
    // Conditions compared as booleans.
    ("(weight > 1) = TRUE", T),
    ("(weight > 1) = flag", T),
    ("(weight > 1) <> (weight < 1)", T),
    ("(missing > 1) = TRUE", U),
    ("flag = (1 = 1)", T),
    // --- Precedence: OR < AND < NOT < comparison -------------------------------------
    ("flag OR off AND off", T),
    ("(flag OR off) AND off", F),
    ("NOT flag OR flag", T),
    ("NOT (flag OR flag)", F),
    ("NOT flag AND off", F),
    ("NOT off AND flag", T),
    ("flag AND NOT off", T),
    ("NOT NOT flag", T),
    ("NOT NOT NOT flag", F),
    ("off OR off OR off OR flag", T),
    ("flag AND flag AND flag AND off", F),
    ("(flag AND flag) AND (flag AND off)", F),
    ("(off OR off) OR (off OR flag)", T),
    ("weight > 2500 AND color = 'red'", T),
    ("weight > 2500 AND color = 'blue' OR region = 'EU'", T),
    ("weight > 2500 AND (color = 'blue' OR region = 'US')", F),
    ("color = 'red' AND weight > 2500 AND region IN ('EU','US') AND name LIKE 'ord%'", T),
    ("color='red'AND weight>2500", T),
    ("\n\tcolor\n=\n'red'\t", T),
    ("  flag  ", T),
    ("((((flag))))", T),
    // --- Literal misuse is rejected when parsing -------------------------------------
    ("5", Invalid),
    ("'a' + 1", Invalid),
    ("TRUE > 3", Invalid),
    ("'x' BETWEEN 1 AND 2", Invalid),
];

// Three-valued logic, from the spec. T = TRUE, F = FALSE, U = UNKNOWN.
//
//   AND | T  F  U        OR | T  F  U        NOT |
//   ----+---------       ---+---------       ----+---
//    T  | T  F  U         T | T  T  T         T  | F
//    F  | F  F  F         F | T  F  U         F  | T
//    U  | U  F  U         U | T  U  U         U  | U
//
// Each operand is written three ways: a literal, a boolean property, and a comparison.
const TRUTH_TABLES: &[(&str, Expect)] = &[
    // AND
    ("TRUE AND TRUE", T),
    ("TRUE AND FALSE", F),
    ("TRUE AND missing = 1", U),
    ("FALSE AND TRUE", F),
    ("FALSE AND FALSE", F),
    ("FALSE AND missing = 1", F),
    ("missing = 1 AND TRUE", U),
    ("missing = 1 AND FALSE", F),
    ("missing = 1 AND missing = 1", U),
    ("flag AND flag", T),
    ("flag AND off", F),
    ("flag AND missing", U),
    ("off AND flag", F),
    ("off AND off", F),
    ("off AND missing", F),
    ("missing AND flag", U),
    ("missing AND off", F),
    ("missing AND missing", U),
    // OR
    ("TRUE OR TRUE", T),
    ("TRUE OR FALSE", T),
    ("TRUE OR missing = 1", T),
    ("FALSE OR TRUE", T),
    ("FALSE OR FALSE", F),
    ("FALSE OR missing = 1", U),
    ("missing = 1 OR TRUE", T),
    ("missing = 1 OR FALSE", U),
    ("missing = 1 OR missing = 1", U),
    ("flag OR flag", T),
    ("flag OR off", T),
    ("flag OR missing", T),
    ("off OR flag", T),
    ("off OR off", F),
    ("off OR missing", U),
    ("missing OR flag", T),
    ("missing OR off", U),
    ("missing OR missing", U),
    // NOT
    ("NOT TRUE", F),
    ("NOT FALSE", T),
    ("NOT (missing = 1)", U),
    ("NOT (weight = 3000)", F),
    ("NOT (weight = 1)", T),
    // Longer flattened chains follow the same tables.
    ("missing OR missing OR flag", T),
    ("flag AND missing AND off", F),
    ("flag AND missing AND flag", U),
    ("off OR missing OR off", U),
];

/// Evaluated against [`correlated`].
const CORRELATED_CASES: &[(&str, Expect)] = &[
    ("JMSCorrelationID = 'c-42'", T),
    ("JMSCorrelationID LIKE 'c-%'", T),
    ("JMSCorrelationID IS NOT NULL", T),
    ("JMSDeliveryMode = 'NON_PERSISTENT'", T),
    ("JMSDeliveryMode = 'PERSISTENT'", F),
    ("JMSPriority = 0", T),
    ("JMSMessageID = 'ID:abc-2'", T),
    ("JMSTimestamp = 0", T),
    ("JMSType IS NULL", T),
    ("JMSType = 'order'", U),
    ("JMSPriority BETWEEN 0 AND 4 AND JMSType IS NULL", T),
];

fn outcome(selector: &str, message: &dyn Filterable) -> Result<Expect, Error> {
    let parsed = Selector::parse(selector)?;
    let result = match parsed.evaluate(message) {
        Some(true) => T,
        Some(false) => F,
        None => U,
    };
    assert_eq!(
        parsed.matches(message),
        result == T,
        "matches() disagrees with evaluate() for {selector:?}"
    );
    Ok(result)
}

fn run_table(cases: &[(&str, Expect)], message: &dyn Filterable) -> Vec<String> {
    let mut failures = Vec::new();
    for &(selector, expected) in cases {
        let actual = match outcome(selector, message) {
            Ok(result) => result,
            Err(e) => {
                if expected != Invalid {
                    failures.push(format!("{selector:?}: expected {expected:?}, got error {e}"));
                }
                continue;
            }
        };
        if actual != expected {
            failures.push(format!("{selector:?}: expected {expected:?}, got {actual:?}"));
        }
    }
    failures
}

#[test]
fn table() {
    let mut failures = run_table(CASES, &standard());
    failures.extend(run_table(TRUTH_TABLES, &standard()));
    failures.extend(run_table(CORRELATED_CASES, &correlated()));
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
    assert!(CASES.len() + TRUTH_TABLES.len() + CORRELATED_CASES.len() >= 200);
}

/// Marks where the error must be reported; removed before parsing.
const MARK: char = '▸';

/// Each must fail to parse, at the marked character offset.
const MALFORMED: &[&str] = &[
    // Nothing, or not enough.
    "▸",
    "   ▸",
    "color =▸",
    "color = ▸",
    "NOT▸",
    "(▸)",
    "▸AND color = 'red'",
    "color = 'red' AND▸",
    "color = 'red' OR ▸OR flag",
    "▸NULL IS NULL",
    "weight = ▸NULL",
    // Strings and characters.
    "color = ▸'red",
    "größe = ▸'x",
    "color = ▸\"red\"",
    "color ▸!= 'red'",
    "color = 'red' ▸#",
    "color =▸= 'red'",
    // Parentheses and trailing tokens.
    "(color = 'red'▸",
    "weight > 2500 AND (color = 'red' OR flag▸",
    "color = 'red'▸)",
    "color = 'red' ▸flag",
    "(▸) = 1",
    // Numbers.
    "▸9223372036854775808 = weight",
    "▸- 9223372036854775809 = weight",
    "weight = ▸99999999999999999999",
    "weight = 1▸e",
    "weight = 1▸e+",
    "weight = 1.2▸.3",
    "weight = 5▸abc",
    "weight = ▸1e999",
    "weight = ▸. 5",
    // BETWEEN, IN, LIKE, IS.
    "weight BETWEEN 1▸",
    "weight BETWEEN 1 ▸OR 2",
    "weight BETWEEN 1 AND▸",
    "weight BETWEEN▸",
    "region IN (▸)",
    "region IN ('EU',▸)",
    "region IN ('EU' ▸'US')",
    "region IN (▸1, 2)",
    "region IN ▸'EU'",
    "region IN ('EU'▸",
    "name LIKE ▸ord",
    "name LIKE ord▸%",
    "name LIKE 'a%' ESCAPE▸",
    "name LIKE 'a%' ESCAPE ▸'ab'",
    "name LIKE 'a%' ESCAPE ▸''",
    "name LIKE ▸'a!x' ESCAPE '!'",
    "name LIKE ▸'a!' ESCAPE '!'",
    "missing IS ▸NUL",
    "missing IS NOT▸",
    "weight IS ▸5",
    "weight NOT ▸5",
    "weight NOT ▸= 5",
    "▸'abc' LIKE 'a%'",
    "▸1 IN ('a')",
    "▸(weight + 1) IS NULL",
    "▸weight + 1 IS NULL",
    // Comparisons do not chain.
    "a = b ▸= c",
    "weight > 1 ▸< 2",
    "a = 1 ▸IS NULL",
    // Types known from literals.
    "▸5",
    "▸'a'",
    "▸-5",
    "▸weight + 1",
    "▸(5)",
    "▸'a' + 1",
    "1 + ▸'a' = 2",
    "▸TRUE * 2 = 2",
    "-▸'a' = 1",
    "TRUE ▸> 3",
    "TRUE ▸> FALSE",
    "'a' ▸< 'b'",
    "'a' ▸= 1",
    "1 ▸<> TRUE",
    "▸'x' BETWEEN 1 AND 2",
    "weight BETWEEN ▸'a' AND 2",
    "weight BETWEEN 1 AND ▸TRUE",
    "NOT ▸5",
    "flag AND ▸5",
    "▸5 OR flag",
    "flag OR ▸'a'",
    "(weight = 1) ▸> (weight = 2)",
    // Keywords are not identifiers.
    "▸and = 1",
    "▸escape = 'x'",
    "x = ▸Between",
];

#[test]
fn malformed() {
    let mut failures = Vec::new();
    for case in MALFORMED {
        let expected: usize = case.chars().position(|c| c == MARK).unwrap_or(usize::MAX);
        let text: String = case.chars().filter(|&c| c != MARK).collect();
        match Selector::parse(&text) {
            Ok(_) => failures.push(format!("{text:?} parsed")),
            Err(e) if e.position != expected => failures.push(format!(
                "{text:?}: error at {} instead of {expected}: {}",
                e.position, e.message
            )),
            Err(e) if e.message.is_empty() => failures.push(format!("{text:?}: empty message")),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
    assert!(MALFORMED.len() >= 30);
}

#[test]
fn error_messages_say_what_was_expected() {
    let message = |text: &str| Selector::parse(text).err().map(|e| e.message).unwrap_or_default();
    assert_eq!(message("(flag"), "expected ')' but found end of input");
    assert_eq!(message("x = 'abc"), "unterminated string literal");
    assert_eq!(
        message("x IN ('a' 'b')"),
        "expected ',' or ')' in the IN list but found string literal 'b'"
    );
    assert_eq!(
        message("x BETWEEN 1 OR 2"),
        "expected AND between the bounds of BETWEEN but found 'OR'"
    );
    assert_eq!(message("5"), "expected a condition but found a number");
    assert_eq!(message("'a' + 1"), "'+' needs a number but found a string");
    assert_eq!(message("TRUE > 3"), "cannot compare a boolean with a number");
    assert_eq!(message("x != 1"), "unexpected '!='; the not-equal operator is '<>'");
    let e = Selector::parse("x = ").err();
    assert_eq!(
        e.map(|e| e.to_string()).unwrap_or_default(),
        "invalid selector at position 4: expected an identifier, a literal or '(' but found end of input"
    );
}

#[test]
fn error_converts_to_invalid_selector() {
    let Err(e) = Selector::parse("x =") else { panic!("parsed") };
    let e: crate::Error = e.into();
    assert_eq!(e.kind(), crate::ErrorKind::InvalidSelector);
}

#[test]
fn nesting_is_bounded() {
    let deep = |n: usize| format!("{}flag{}", "(".repeat(n), ")".repeat(n));
    assert!(Selector::parse(&deep(MAX_DEPTH - 1)).is_ok());
    let too_deep = Selector::parse(&deep(MAX_DEPTH + 1)).err();
    assert_eq!(too_deep.map(|e| e.position), Some(MAX_DEPTH));
    assert!(Selector::parse(&deep(100_000)).is_err());

    let nots = |n: usize| format!("{}flag", "NOT ".repeat(n));
    assert_eq!(Selector::parse(&nots(MAX_DEPTH)).map(|s| s.matches(&standard())).ok(), Some(true));
    assert!(Selector::parse(&nots(100_000)).is_err());
    assert!(Selector::parse(&format!("{}1 = -1", "-".repeat(100_000))).is_err());

    // Left-associative chains deepen the tree without recursing in the parser.
    let sum = |n: usize| format!("weight{} > 0", " + 1".repeat(n));
    assert_eq!(
        Selector::parse(&sum(MAX_DEPTH - 2)).map(|s| s.matches(&standard())).ok(),
        Some(true)
    );
    assert!(Selector::parse(&sum(100_000)).is_err());

    // AND and OR lists are flat, so long ones are fine.
    let ors: Vec<String> = (0..10_000).map(|i| format!("weight = {i}")).collect();
    assert_eq!(Selector::parse(&ors.join(" OR ")).map(|s| s.matches(&standard())).ok(), Some(true));
}

#[test]
fn errors_quote_an_excerpt_of_a_long_token_not_all_of_it() {
    // Error messages reach logs and the client; a selector may be megabytes long.
    let long = "x".repeat(100_000);
    let cases = [
        format!("a = 1 '{long}'"),
        format!("a = 1 {long}"),
        format!("a = {}", "9".repeat(100_000)),
        format!("a = 1{}e999999", "0".repeat(100_000)),
        format!("a LIKE 'b' ESCAPE '{long}'"),
    ];
    for selector in &cases {
        let Err(e) = Selector::parse(selector) else { panic!("{} parsed", &selector[..20]) };
        let text = e.to_string();
        assert!(text.len() < 300, "an error of {} bytes: {}...", text.len(), &text[..120]);
        assert!(text.contains("xxxxxxxx") || text.contains("99999999") || text.contains("10000000"), "{text}");
    }
}

#[test]
fn selectors_longer_than_the_limit_are_refused() {
    // An IN list of 20,000 IDs fits.
    let ids: Vec<String> = (0..20_000).map(|i| format!("'{i:036}'")).collect();
    let list = format!("id IN ({})", ids.join(", "));
    assert!(list.len() < MAX_SELECTOR_BYTES);
    assert!(Selector::parse(&list).is_ok());
    // Beyond the limit, even a valid selector is refused before it is tokenized.
    let long = format!("{}weight > 1", " ".repeat(MAX_SELECTOR_BYTES));
    let Err(e) = Selector::parse(&long) else { panic!("a selector of {} bytes parsed", long.len()) };
    assert_eq!(e.position, 0);
    assert!(e.message.contains(&MAX_SELECTOR_BYTES.to_string()), "{e}");
    let e: crate::Error = e.into();
    assert_eq!(e.kind(), crate::ErrorKind::InvalidSelector);
}

#[test]
fn parse_optional_treats_blank_as_absent() {
    assert!(matches!(Selector::parse_optional(None), Ok(None)));
    assert!(matches!(Selector::parse_optional(Some("")), Ok(None)));
    assert!(matches!(Selector::parse_optional(Some(" \t\n ")), Ok(None)));
    assert!(matches!(Selector::parse_optional(Some("flag")), Ok(Some(_))));
    assert!(Selector::parse_optional(Some("flag =")).is_err());
    assert!(Selector::parse("").is_err());
}

#[test]
fn selector_keeps_its_text_and_is_shareable() {
    fn shareable<T: Clone + std::fmt::Debug + Send + Sync>() {}
    shareable::<Selector>();
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SelectorCache>();
    let text = " color = 'red' ";
    let selector = Selector::parse(text).ok();
    assert_eq!(selector.as_ref().map(Selector::text), Some(text));
    assert_eq!(format!("{:?}", selector.clone()), format!("Some(Selector({text:?}))"));
}

#[test]
fn owned_values_from_the_message_work_too() {
    struct Owned;
    impl Filterable for Owned {
        fn header(&self, _: HeaderField) -> Option<Operand<'_>> {
            None
        }
        fn property(&self, name: &str) -> Option<Operand<'_>> {
            Some(Operand::Str(Cow::Owned(format!("{name}-value"))))
        }
    }
    let selector = Selector::parse("a = 'a-value' AND b LIKE 'b-%' AND c IN ('c-value')");
    assert_eq!(selector.map(|s| s.matches(&Owned)).ok(), Some(true));
}

#[test]
fn cache_returns_results_and_evicts_the_least_recently_used() {
    let cache = SelectorCache::new(2);
    assert!(cache.parse("flag").is_ok());
    assert!(cache.parse("flag =").is_err());
    assert_eq!(cache.len(), 2);
    // Touch "flag" so "flag =" is the oldest, then add a third.
    assert!(cache.parse("flag").is_ok());
    assert!(cache.parse("off").is_ok());
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.parse("flag").map(|s| s.text().to_string()).ok(), Some("flag".to_string()));
    assert_eq!(cache.parse("flag =").err().map(|e| e.position), Some(6));

    let uncached = SelectorCache::new(0);
    assert!(uncached.parse("flag").is_ok());
    assert!(uncached.is_empty());
}

/// xorshift64*: small, deterministic, and good enough to shake the parser.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const VOCABULARY: &[&str] = &[
    "color",
    "weight",
    "price",
    "flag",
    "off",
    "missing",
    "name",
    "region",
    "nan",
    "big",
    "small",
    "JMSPriority",
    "JMSType",
    "JMSDeliveryMode",
    "JMSCorrelationID",
    "JMSXGroupID",
    "'red'",
    "'EU'",
    "'a''b'",
    "'%'",
    "'_'",
    "'!'",
    "'ord%'",
    "''",
    "'",
    "3000",
    "0",
    "-5",
    "2.5",
    "1e3",
    ".5",
    "7.",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "1e999",
    "TRUE",
    "FALSE",
    "NULL",
    "NOT",
    "AND",
    "OR",
    "BETWEEN",
    "LIKE",
    "IN",
    "IS",
    "ESCAPE",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "(",
    ")",
    ",",
    "!=",
    "é",
    "\"",
];

fn random_bytes(rng: &mut Rng) -> String {
    let len = rng.below(40);
    let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn token_soup(rng: &mut Rng) -> String {
    let len = 1 + rng.below(14);
    let mut text = String::new();
    for _ in 0..len {
        let token = *rng.pick(VOCABULARY);
        text.push_str(token);
        if rng.below(4) != 0 {
            text.push(' ');
        }
    }
    text
}

fn mutate(rng: &mut Rng) -> String {
    let seeds: Vec<&str> = CASES.iter().chain(TRUTH_TABLES).map(|(s, _)| *s).collect();
    let mut chars: Vec<char> = rng.pick(&seeds).chars().collect();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(chars.len() + 1);
        match rng.below(5) {
            0 if at < chars.len() => {
                let end = (at + 1 + rng.below(4)).min(chars.len());
                chars.drain(at..end);
            }
            1 => {
                let token: Vec<char> = format!(" {} ", rng.pick(VOCABULARY)).chars().collect();
                chars.splice(at..at, token);
            }
            2 if at < chars.len() => {
                let end = (at + 1 + rng.below(6)).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                let to = rng.below(chars.len() + 1);
                chars.splice(to..to, copy);
            }
            3 if chars.len() >= 2 => {
                let other = rng.below(chars.len());
                let at = at.min(chars.len() - 1);
                chars.swap(at, other);
            }
            _ if at < chars.len() => chars[at] = (b' ' + (rng.next() % 95) as u8) as char,
            _ => chars.push(*rng.pick(&['(', ')', '\'', '%', '-'])),
        }
    }
    chars.into_iter().collect()
}

#[test]
fn random_inputs_never_panic() {
    let messages: Vec<Box<dyn Filterable>> = vec![
        Box::new(standard()),
        Box::new(correlated()),
        Box::new(MockMessage::default()),
        Box::new(Uniform(long(i64::MIN))),
        Box::new(Uniform(long(0))),
        Box::new(Uniform(double(f64::NAN))),
        Box::new(Uniform(double(-0.0))),
        Box::new(Uniform(string("%_"))),
        Box::new(Uniform(boolean(true))),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut parsed, mut rejected) = (0usize, 0usize);
    for i in 0..120_000 {
        let text = match i % 3 {
            0 => random_bytes(&mut rng),
            1 => token_soup(&mut rng),
            _ => mutate(&mut rng),
        };
        match Selector::parse(&text) {
            Ok(selector) => {
                parsed += 1;
                for message in &messages {
                    let result = selector.evaluate(message.as_ref());
                    assert_eq!(selector.matches(message.as_ref()), result == Some(true));
                }
            }
            Err(e) => {
                rejected += 1;
                assert!(
                    e.position <= text.chars().count(),
                    "{text:?}: position {} past the end",
                    e.position
                );
                assert!(!e.message.is_empty());
            }
        }
    }
    eprintln!("random: parsed {parsed}, rejected {rejected}");
    // Both paths must have been exercised substantially.
    assert!(parsed > 5_000, "only {parsed} random selectors parsed");
    assert!(rejected > 50_000, "only {rejected} random selectors were rejected");
}
