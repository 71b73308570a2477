//! Strings read as floating-point numbers exactly as Java's `Float.valueOf(String)` and
//! `Double.valueOf(String)` read them, which the JMS conversion rules name.
//!
//! The grammar (`Double.valueOf`'s documentation): after trimming every leading and
//! trailing character up to U+0020, an optional sign, then `NaN`, `Infinity`, a decimal
//! literal (`1`, `1.`, `.5`, `1.5e-3`) or a hexadecimal one (`0x1.8p1`: hex digits with an
//! optional point, then a mandatory binary exponent), the two literals with an optional
//! `f`/`F`/`d`/`D` suffix. Nothing else: no `inf`, `nan`, `infinity`, no digit separators.
//! Values round to nearest, ties to even, straight to the target type (a `float` is not
//! rounded through a `double` first).

/// The target type's binary format.
#[derive(Clone, Copy)]
struct Format {
    /// Significand bits, the leading one included.
    precision: i64,
    /// The exponent of the smallest normal number.
    min_exponent: i64,
}

const DOUBLE: Format = Format { precision: 53, min_exponent: -1022 };
const FLOAT: Format = Format { precision: 24, min_exponent: -126 };

/// `Double.valueOf(text)`, or `None` where Java throws `NumberFormatException`.
pub(crate) fn parse_double(text: &str) -> Option<f64> {
    parse(text, DOUBLE, |decimal| decimal.parse::<f64>().ok())
}

/// `Float.valueOf(text)`, or `None` where Java throws `NumberFormatException`.
pub(crate) fn parse_float(text: &str) -> Option<f32> {
    // Every float is a double, and the conversion back is exact.
    parse(text, FLOAT, |decimal| decimal.parse::<f32>().ok().map(f64::from)).map(|v| v as f32)
}

fn parse(text: &str, format: Format, decimal: impl Fn(&str) -> Option<f64>) -> Option<f64> {
    let text = text.trim_matches(|c: char| c <= ' ');
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = match body {
        "NaN" => return Some(f64::NAN),
        "Infinity" => f64::INFINITY,
        _ => {
            let literal = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
            match literal.strip_prefix("0x").or_else(|| literal.strip_prefix("0X")) {
                Some(hex) => parse_hex(hex, format)?,
                None if is_decimal_literal(literal) => decimal(literal)?,
                None => return None,
            }
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `Digits [. Digits] [ExponentPart]` or `. Digits [ExponentPart]`: ASCII digits, at
/// least one in the significand.
fn is_decimal_literal(text: &str) -> bool {
    let (significand, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = significand.split_once('.').unwrap_or((significand, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let significand_ok = digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    significand_ok && exponent_ok
}

/// What follows `0x`: `HexDigits [. HexDigits] (p|P) SignedInteger`, with at least one
/// hex digit, correctly rounded to `format`.
fn parse_hex(text: &str, format: Format) -> Option<f64> {
    let at = text.find(['p', 'P'])?;
    let (significand, exponent) = (&text[..at], &text[at + 1..]);
    let (whole, fraction) = significand.split_once('.').unwrap_or((significand, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    // The value is `bits * 2^scale`, plus something below bits' last place when
    // `sticky` (digits beyond what 64 bits hold, which only decide the rounding).
    let mut bits: u64 = 0;
    let mut scale: i64 = 0;
    let mut sticky = false;
    for (digits, after_point) in [(whole, false), (fraction, true)] {
        for c in digits.chars() {
            let d = u64::from(c.to_digit(16)?);
            if bits >> 60 == 0 {
                bits = bits << 4 | d;
                if after_point {
                    scale -= 4;
                }
            } else {
                sticky |= d != 0;
                if !after_point {
                    scale += 4;
                }
            }
        }
    }
    let exponent = parse_exponent(exponent)?;
    if bits == 0 {
        return Some(0.0);
    }
    let scale = scale.saturating_add(exponent);
    let length = i64::from(64 - bits.leading_zeros());
    // The exponent of the leading bit, and how many bits the target keeps there
    // (fewer for a subnormal result; none or less below half the smallest one).
    let top = scale + length - 1;
    if top > 1100 {
        return Some(f64::INFINITY);
    }
    let kept = format.precision - (format.min_exponent - top).max(0);
    let dropped = length - kept;
    let (mut significand, place) = if dropped <= 0 {
        (bits, scale)
    } else if dropped > length {
        // Below half the smallest subnormal: rounds to zero.
        return Some(0.0);
    } else {
        let significand = if dropped == 64 { 0 } else { bits >> dropped };
        let rest = bits & (u64::MAX >> (64 - dropped));
        let half = 1u64 << (dropped - 1);
        let mut significand = significand;
        if rest > half || rest == half && (sticky || significand & 1 == 1) {
            significand += 1;
        }
        (significand, scale + dropped)
    };
    if significand == 0 {
        return Some(0.0);
    }
    // Exact from here: `significand` fits the target's precision at this place (a
    // carry into a new leading bit is still a power of two), so only a result beyond
    // the largest finite number becomes infinity, in the product or in `as f32`.
    let mut place = place;
    while significand & 1 == 0 && place < 0 {
        significand >>= 1;
        place += 1;
    }
    Some(significand as f64 * power_of_two(place))
}

/// A binary exponent's decimal digits; beyond any that matters, clamped (the value is
/// then zero or infinite anyway).
fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i64 = 0;
    for b in digits.bytes() {
        value = (value * 10 + i64::from(b - b'0')).min(1 << 40);
    }
    Some(if negative { -value } else { value })
}

/// 2^k as a double, for any k a result can need (subnormal powers included).
fn power_of_two(k: i64) -> f64 {
    match k {
        k if k > 1023 => f64::INFINITY,
        k if k >= -1022 => f64::from_bits(((k + 1023) as u64) << 52),
        k if k >= -1074 => f64::from_bits(1u64 << (k + 1074)),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_double, parse_float};

    #[test]
    fn decimal_literals_follow_javas_grammar() {
        for (text, value) in [
            ("1", 1.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("+.5e1", 5.0),
            ("-2.5E-1", -0.25),
            ("1e+2", 100.0),
            (" \t\n12\r ", 12.0),
            ("1.5d", 1.5),
            ("2f", 2.0),
            ("3D", 3.0),
            ("4F", 4.0),
            ("1e400", f64::INFINITY),
            ("-0", -0.0),
            ("Infinity", f64::INFINITY),
            ("+Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
        ] {
            assert_eq!(parse_double(text).map(f64::to_bits), Some(f64::to_bits(value)), "{text:?}");
        }
        for text in ["NaN", "+NaN", "-NaN", " NaN "] {
            assert!(parse_double(text).is_some_and(f64::is_nan), "{text:?}");
        }
        for text in [
            "", " ", "+", "-", ".", "e5", ".e5", "1e", "1e+", "1.5.2", "1_000", "1,5", "inf", "-inf", "infinity",
            "INFINITY", "nan", "NAN", "Infinityf", "NaNd", "1.5dd", "1.5fd", "0x", "0x1", "0x1.8", "0xp3", "0x.p3",
            "0x1p", "0x1p+", "0x1pf", "0x1g0p0", "1p3", "1.5e3.0", "٣", "1 2", "++1", "+-1", "0b101",
        ] {
            assert_eq!(parse_double(text), None, "{text:?}");
            assert_eq!(parse_float(text), None, "{text:?}");
        }
    }

    #[test]
    fn hex_literals_are_exact_up_to_the_precision() {
        for (text, value) in [
            ("0x1p3", 8.0),
            ("0x1.8p1", 3.0),
            ("0X1P-2", 0.25),
            ("-0x.8p0", -0.5),
            ("0x10p-4d", 1.0),
            ("0xAbC.dEfP0", 2748.870849609375),
            ("0x1.fffffffffffffp1023", f64::MAX),
            ("0x1p-1022", f64::MIN_POSITIVE),
            ("0x0.0000000000001p-1022", 4.9e-324),
            ("0x1p-1074", 4.9e-324),
            ("0x0p999999999999999999999", 0.0),
            ("0x00000000000000000000001p0", 1.0),
            ("0x1.0000000000000000000000000p0", 1.0),
        ] {
            assert_eq!(parse_double(text).map(f64::to_bits), Some(f64::to_bits(value)), "{text:?}");
        }
    }

    #[test]
    fn hex_literals_round_to_nearest_even_beyond_the_precision() {
        let one_ulp = f64::EPSILON;
        for (text, value) in [
            // 1 + half an ulp: a tie, to the even 1.
            ("0x1.00000000000008p0", 1.0),
            // A tie between 1 + 1 ulp (odd) and 1 + 2 ulps: up.
            ("0x1.00000000000018p0", 1.0 + 2.0 * one_ulp),
            // Just above the tie, decided by a digit beyond 64 bits.
            ("0x1.000000000000080000000000001p0", 1.0 + one_ulp),
            ("0x1.0000000000000800000000000000p0", 1.0),
            ("0x1.fffffffffffff8p0", 2.0),
            ("0x1.fffffffffffff8p1023", f64::INFINITY),
            ("0x1.fffffffffffff7ffp1023", f64::MAX),
            // Subnormals keep fewer bits: half the smallest ties to 0, more rounds up.
            ("0x1p-1075", 0.0),
            ("0x1.0000001p-1075", 4.9e-324),
            ("0x1.8p-1074", 2.0 * 4.9e-324),
            ("0x1p-2000", 0.0),
            ("0x1p99999999999999999999", f64::INFINITY),
            ("-0x1p-2000", -0.0),
        ] {
            assert_eq!(parse_double(text).map(f64::to_bits), Some(f64::to_bits(value)), "{text:?}");
        }
    }

    #[test]
    fn floats_round_once_straight_to_float() {
        for (text, value) in [
            ("0x1p3f", 8.0f32),
            ("0x1.000001p0", 1.0),
            ("0x1.000003p0", 1.0 + 2.0 * f32::EPSILON),
            ("0x1.0000011p0", 1.0 + f32::EPSILON),
            ("0x1.fffffep127", f32::MAX),
            ("0x1.ffffffp127", f32::INFINITY),
            ("0x1p-149", 1.0e-45),
            ("0x1p-150", 0.0),
            ("0x1.0000001p-150", 1.0e-45),
            ("0x1p-126", f32::MIN_POSITIVE),
            // Decimal too: the nearest float, not the float nearest the nearest double.
            ("1.00000017881393432617187499", 1.000_000_1),
            ("3.4028235e38", f32::MAX),
            ("3.4028236e38", f32::INFINITY),
            ("1e39", f32::INFINITY),
            ("1.5f", 1.5),
            ("-Infinity", f32::NEG_INFINITY),
        ] {
            assert_eq!(parse_float(text).map(f32::to_bits), Some(f32::to_bits(value)), "{text:?}");
        }
        assert!(parse_float("NaN").is_some_and(f32::is_nan));
    }
}
