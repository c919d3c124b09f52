//! Floating point numbers as Java's `Double.toString` and `Float.toString` write them (the JDK 19+ specification,
//! which Jackson uses): the shortest digits that read back to the same number, plain between 10^-3 and 10^7 with at
//! least one fractional digit (`12.34`, `100.0`), computerized scientific notation outside (`1.0E7`, `4.9E-324`).

/// `Double.toString(v)`.
pub(crate) fn double(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return special(v.is_nan(), v.is_sign_negative(), v == 0.0);
    }
    let abs = v.abs();
    let shortest = format!("{abs:e}");
    let two_digits = format!("{abs:.1e}");
    let closer = two_digits.parse::<f64>().is_ok_and(|back| back == abs);
    layout(v < 0.0, &shortest, closer.then_some(two_digits.as_str()), (1e-3..1e7).contains(&abs))
}

/// `Float.toString(v)`.
pub(crate) fn float(v: f32) -> String {
    if !v.is_finite() || v == 0.0 {
        return special(v.is_nan(), v.is_sign_negative(), v == 0.0);
    }
    let abs = v.abs();
    let shortest = format!("{abs:e}");
    let two_digits = format!("{abs:.1e}");
    let closer = two_digits.parse::<f32>().is_ok_and(|back| back == abs);
    layout(v < 0.0, &shortest, closer.then_some(two_digits.as_str()), (1e-3..1e7).contains(&abs))
}

fn special(nan: bool, negative: bool, zero: bool) -> String {
    match (nan, negative, zero) {
        (true, _, _) => "NaN",
        (false, false, true) => "0.0",
        (false, true, true) => "-0.0",
        (false, false, false) => "Infinity",
        (false, true, false) => "-Infinity",
    }
    .to_owned()
}

/// Digits and decimal exponent of Rust's `{:e}` form (`1.2345e3` is `12345`, 3), trailing zeros dropped.
fn digits_and_exponent(sci: &str) -> (String, i32) {
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci, "0"));
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    (digits, exponent.parse().unwrap_or(0))
}

/// Java's layout. When the shortest form has one digit, Java picks the closest of the one- and two-digit forms
/// that read back to the number (`4.9E-324` rather than `5E-324`): that is the two-digit rounding when it reads back.
fn layout(negative: bool, shortest: &str, two_digits: Option<&str>, plain: bool) -> String {
    let (mut digits, mut exponent) = digits_and_exponent(shortest);
    if let (1, Some(two)) = (digits.len(), two_digits) {
        (digits, exponent) = digits_and_exponent(two);
    }
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if !plain {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push_str(&exponent.to_string());
    } else if exponent >= 0 {
        let int_len = exponent as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
        out.push_str(&digits);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_like_java() {
        let cases = [
            (12.34, "12.34"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (-0.5, "-0.5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (1e7, "1.0E7"),
            (1.5e7, "1.5E7"),
            (4398046511104.0, "4.398046511104E12"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (f64::from_bits(1), "4.9E-324"),
            (f64::MAX, "1.7976931348623157E308"),
            (2e23, "2.0E23"),
            (1e23, "1.0E23"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, java) in cases {
            assert_eq!(double(v), java, "{v:e}");
        }
    }

    #[test]
    fn floats_like_java() {
        let cases = [
            (12.34f32, "12.34"),
            (1.0e10, "1.0E10"),
            (0.1, "0.1"),
            (3.4028235e38, "3.4028235E38"),
            (f32::from_bits(1), "1.4E-45"),
            (-1.5e-5, "-1.5E-5"),
            (16777216.0, "1.6777216E7"),
        ];
        for (v, java) in cases {
            assert_eq!(float(v), java, "{v:e}");
        }
    }

    #[test]
    fn text_reads_back() {
        for v in [1.0 / 3.0, 2.0 / 3.0, 123456.789, 1.2345e-10, 5e-324, 1e-3, 9999999.999999998] {
            assert_eq!(double(v).parse::<f64>().ok(), Some(v));
        }
    }
}
