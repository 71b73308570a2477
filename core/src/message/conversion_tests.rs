//! The JMS property conversion table (JMS 2.0 section 3.5.4), cell by cell: each row is
//! a value as written, each column a getter; `-` marks a MessageFormat error.

use super::value::{Convert, Value};
use crate::ErrorKind;

/// What a getter returns, rendered as text so one table covers every type.
fn read(v: Option<&Value>, getter: &str) -> Result<String, ErrorKind> {
    let r = match getter {
        "boolean" => v.to_bool().map(|x| x.to_string()),
        "byte" => v.to_byte().map(|x| x.to_string()),
        "short" => v.to_short().map(|x| x.to_string()),
        "char" => v.to_char().map(|x| x.to_string()),
        "int" => v.to_int().map(|x| x.to_string()),
        "long" => v.to_long().map(|x| x.to_string()),
        "float" => v.to_float().map(|x| x.to_string()),
        "double" => v.to_double().map(|x| x.to_string()),
        "String" => v.to_string_value().map(|x| x.unwrap_or_else(|| "null".into())),
        "byte[]" => v.to_bytes().map(|x| x.map_or_else(|| "None".into(), |b| format!("{b:?}"))),
        _ => unreachable!(),
    };
    r.map_err(|e| e.kind())
}

const GETTERS: [&str; 10] = ["boolean", "byte", "short", "char", "int", "long", "float", "double", "String", "byte[]"];

#[test]
fn every_cell_of_the_conversion_table() {
    use ErrorKind::{MessageFormat as X, NumberFormat as N};
    type Cell = Result<&'static str, ErrorKind>;
    let rows: Vec<(Value, [Cell; 10])> = vec![
        //                  boolean        byte       short      char       int        long       float        double       String        byte[]
        (Value::Bool(true), [Ok("true"), Err(X), Err(X), Err(X), Err(X), Err(X), Err(X), Err(X), Ok("true"), Err(X)]),
        (Value::Byte(-7), [Err(X), Ok("-7"), Ok("-7"), Err(X), Ok("-7"), Ok("-7"), Err(X), Err(X), Ok("-7"), Err(X)]),
        (Value::Short(300), [Err(X), Err(X), Ok("300"), Err(X), Ok("300"), Ok("300"), Err(X), Err(X), Ok("300"), Err(X)]),
        (Value::Char('z'), [Err(X), Err(X), Err(X), Ok("z"), Err(X), Err(X), Err(X), Err(X), Ok("z"), Err(X)]),
        (Value::Int(70000), [Err(X), Err(X), Err(X), Err(X), Ok("70000"), Ok("70000"), Err(X), Err(X), Ok("70000"), Err(X)]),
        (Value::Long(1 << 40), [Err(X), Err(X), Err(X), Err(X), Err(X), Ok("1099511627776"), Err(X), Err(X), Ok("1099511627776"), Err(X)]),
        (Value::Float(1.5), [Err(X), Err(X), Err(X), Err(X), Err(X), Err(X), Ok("1.5"), Ok("1.5"), Ok("1.5"), Err(X)]),
        (Value::Double(2.25), [Err(X), Err(X), Err(X), Err(X), Err(X), Err(X), Err(X), Ok("2.25"), Ok("2.25"), Err(X)]),
        (Value::String("12".into()), [Ok("false"), Ok("12"), Ok("12"), Err(X), Ok("12"), Ok("12"), Ok("12"), Ok("12"), Ok("12"), Err(X)]),
        (Value::String("TRUE".into()), [Ok("true"), Err(N), Err(N), Err(X), Err(N), Err(N), Err(N), Err(N), Ok("TRUE"), Err(X)]),
        (Value::String("300".into()), [Ok("false"), Err(N), Ok("300"), Err(X), Ok("300"), Ok("300"), Ok("300"), Ok("300"), Ok("300"), Err(X)]),
        (Value::Bytes(vec![1, 2]), [Err(X), Err(X), Err(X), Err(X), Err(X), Err(X), Err(X), Err(X), Err(X), Ok("[1, 2]")]),
    ];
    for (value, cells) in &rows {
        for (getter, expected) in GETTERS.iter().zip(cells) {
            let got = read(Some(value), getter);
            assert_eq!(got.as_deref().map_err(|k| *k), expected.map(|s| s), "{value:?} read as {getter}");
        }
    }
}

#[test]
fn a_missing_value_reads_as_false_null_or_a_number_format_error() {
    let expected: [Result<&str, ErrorKind>; 10] = [
        Ok("false"),
        Err(ErrorKind::NumberFormat),
        Err(ErrorKind::NumberFormat),
        Err(ErrorKind::NumberFormat),
        Err(ErrorKind::NumberFormat),
        Err(ErrorKind::NumberFormat),
        Err(ErrorKind::NumberFormat),
        Err(ErrorKind::NumberFormat),
        Ok("null"),
        Ok("None"),
    ];
    for (getter, expected) in GETTERS.iter().zip(expected) {
        assert_eq!(read(None, getter).as_deref().map_err(|k| *k), expected, "missing read as {getter}");
    }
}

#[test]
fn floats_print_like_java() {
    for (v, text) in [(Value::Double(1.0), "1.0"), (Value::Float(-0.5), "-0.5"), (Value::Double(f64::NAN), "NaN"),
        (Value::Double(f64::INFINITY), "Infinity"), (Value::Double(f64::NEG_INFINITY), "-Infinity")]
    {
        assert_eq!(Some(&v).to_string_value().unwrap().as_deref(), Some(text));
    }
}

#[test]
fn property_names_and_types_are_checked() {
    let mut m = super::Message::text("x");
    assert_eq!(m.set_property("", 1).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(m.set_property("1abc", 1).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(m.set_property("NULL", 1).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(m.set_property("and", 1).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(m.set_property("c", 'c').unwrap_err().kind(), ErrorKind::MessageFormat);
    assert_eq!(m.set_property("b", vec![1u8]).unwrap_err().kind(), ErrorKind::MessageFormat);
    m.set_property("$ok_name1", 1).unwrap();
    m.set_property("$ok_name1", "replaced").unwrap();
    assert_eq!(m.properties().count(), 1);
    assert_eq!(m.string_property("$ok_name1").unwrap().as_deref(), Some("replaced"));
}

#[test]
fn a_message_survives_encoding() {
    let mut m = super::Message::new(super::Body::Map(vec![("k".into(), Value::Char('c')), ("b".into(), Value::Bytes(vec![0, 255]))]));
    m.set_property("p", 1.5f32).unwrap();
    m.correlation_id = Some("corr".into());
    m.reply_to = Some(crate::Destination::topic("t"));
    let back = super::Message::decode(&m.encode()).unwrap();
    assert_eq!(back, m);
    assert_eq!(super::Message::decode(b"\xc1garbage").unwrap_err().kind(), ErrorKind::MessageFormat);
}
