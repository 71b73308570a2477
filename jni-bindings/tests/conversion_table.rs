//! The core's conversion table against `tests/property-conversions.tsv`, the file the Java
//! provider's copy of the table (`Conversions.java`, which spares every property read a
//! JNI crossing) is tested against too: where both pass, the two tables agree cell by
//! cell.

use herald_core::message::{Convert, Value};
use herald_core::ErrorKind;

const TABLE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/property-conversions.tsv"));

fn unquote(text: &str) -> &str {
    text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or_else(|| panic!("{text:?} is not a quoted String"))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn value(kind: &str, text: &str) -> Option<Value> {
    Some(match kind {
        "boolean" => Value::Bool(text.parse().unwrap()),
        "byte" => Value::Byte(text.parse().unwrap()),
        "short" => Value::Short(text.parse().unwrap()),
        "char" => Value::Char(text.chars().next().unwrap()),
        "int" => Value::Int(text.parse().unwrap()),
        "long" => Value::Long(text.parse().unwrap()),
        "float" => Value::Float(text.parse().unwrap()),
        "double" => Value::Double(text.parse().unwrap()),
        "String" => Value::String(unquote(text).to_owned()),
        "byte[]" => Value::Bytes(hex(text)),
        "missing" => return None,
        other => panic!("unknown value type {other}"),
    })
}

/// Reads `v` with `getter` and checks the outcome against `cell`; an error describes the
/// difference.
fn check(v: Option<&Value>, getter: &str, cell: &str) -> Result<(), String> {
    let failure = match cell {
        "MessageFormat" => Some(ErrorKind::MessageFormat),
        "NumberFormat" | "NullPointer" => Some(ErrorKind::NumberFormat),
        _ => None,
    };
    macro_rules! compare {
        ($read:expr, $expected:expr) => {
            match ($read, failure) {
                (Err(e), Some(kind)) if e.kind() == kind => Ok(()),
                (Ok(got), None) if got == $expected => Ok(()),
                (got, _) => Err(format!("got {got:?}, the table says {cell}")),
            }
        };
    }
    match getter {
        "boolean" => compare!(v.to_bool(), cell == "true"),
        "byte" => compare!(v.to_byte().map(i64::from), cell.parse::<i64>().unwrap_or(i64::MIN)),
        "short" => compare!(v.to_short().map(i64::from), cell.parse::<i64>().unwrap_or(i64::MIN)),
        "int" => compare!(v.to_int().map(i64::from), cell.parse::<i64>().unwrap_or(i64::MIN)),
        "long" => compare!(v.to_long(), cell.parse::<i64>().unwrap_or(i64::MIN)),
        "char" => compare!(v.to_char().map(|c| c.to_string()), cell.to_owned()),
        // Bit for bit: NaN equals NaN, and -0.0 is not 0.0.
        "float" => compare!(v.to_float().map(f32::to_bits), cell.parse::<f32>().map(f32::to_bits).unwrap_or(0)),
        "double" => compare!(v.to_double().map(f64::to_bits), cell.parse::<f64>().map(f64::to_bits).unwrap_or(0)),
        "String" => compare!(v.to_string_value(), (cell != "null").then(|| unquote(cell).to_owned())),
        "byte[]" => compare!(v.to_bytes(), (cell != "null").then(|| hex(cell))),
        other => panic!("unknown getter {other}"),
    }
}

#[test]
fn the_core_reads_every_cell_as_the_shared_table_says() {
    let mut lines = TABLE.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let header: Vec<&str> = lines.next().expect("a header line").split('\t').collect();
    assert_eq!(header[..2], ["type", "value"]);
    let getters = &header[2..];
    assert_eq!(getters.len(), 10, "one column per getter");
    let mut differences = Vec::new();
    let mut cells = 0;
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 2 + getters.len(), "a malformed row: {line:?}");
        let v = value(fields[0], fields[1]);
        for (getter, cell) in getters.iter().zip(&fields[2..]) {
            cells += 1;
            if let Err(why) = check(v.as_ref(), getter, cell) {
                differences.push(format!("{} {} read as {getter}: {why}", fields[0], fields[1]));
            }
        }
    }
    assert!(cells >= 250, "the table has {cells} cells");
    assert!(differences.is_empty(), "the core differs from the table:\n{}", differences.join("\n"));
}
